// Small progressive enhancements; every page works without this file.
// - <form data-confirm="Question?">: asks before submitting.
// - <button data-copy="#id">: copies the text of the element #id.
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-copy]");
  if (!button || !navigator.clipboard) return;
  var source = document.querySelector(button.getAttribute("data-copy"));
  if (source) navigator.clipboard.writeText(source.value || source.textContent.trim());
});
// - <nav data-nav>: on a narrow screen the menu is a button that opens the list of links.
(function () {
  var nav = document.querySelector("[data-nav]");
  var button = nav && nav.querySelector(".nav-toggle");
  if (!button) return;
  button.hidden = false;
  nav.classList.add("collapsible");
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    nav.classList.toggle("open", open);
  });
})();
