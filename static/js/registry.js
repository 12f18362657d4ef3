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
// - <section data-export-poll="/exports/7/status.json" data-poll-seconds="2">: follows a background export, moving
//   its <progress> bar, and reloads the page once the job is finished (to show its download link or its failure).
(function () {
  var section = document.querySelector("[data-export-poll]");
  if (!section || !window.fetch) return;
  var url = section.getAttribute("data-export-poll");
  var seconds = parseInt(section.getAttribute("data-poll-seconds"), 10) || 2;
  var bar = section.querySelector("progress");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) return;
        if (bar) { bar.value = state.percent; bar.textContent = state.percent + " %"; }
        var done = section.querySelector("[data-export-done]");
        var total = section.querySelector("[data-export-total]");
        if (done) done.textContent = state.done;
        if (total) total.textContent = state.total;
        if (state.finished) { window.location.reload(); return; }
        window.setTimeout(poll, seconds * 1000);
      })
      .catch(function () { window.setTimeout(poll, seconds * 1000); });
  }
  window.setTimeout(poll, seconds * 1000);
})();
