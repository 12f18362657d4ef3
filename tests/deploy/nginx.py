"""Runs deploy/nginx/caution.conf.template in Debian's nginx for the tests: a self-signed certificate, the template
filled in, a main configuration that keeps every file nginx writes in a temporary directory, and HTTPS requests
from a chosen loopback address (the whole of 127.0.0.0/8 is this machine), so that the address nginx forwards
differs from the one the application's socket sees."""

from __future__ import annotations

import http.client
import re
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "caution.conf.template"
SERVER_NAME = "localhost"
PLACEHOLDER = re.compile(r"\$\{(CAUTION_[A-Z_]+)\}")


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        raise RuntimeError("Debian's nginx is not installed (make test installs it: DEBIAN_PACKAGES)")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def render(values: dict[str, str]) -> str:
    """The template with every ``${CAUTION_...}`` replaced, as envsubst does with the names listed."""
    text = TEMPLATE.read_text()
    missing = set(PLACEHOLDER.findall(text)) - set(values)
    assert not missing, f"no value for {sorted(missing)}"
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "tls.crt", directory / "tls.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={SERVER_NAME}",
         "-addext", f"subjectAltName=DNS:{SERVER_NAME}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


MAIN_CONF = """\
user root;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 128; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/caution.conf;
}}
"""


@dataclass
class Nginx:
    directory: Path
    https_port: int
    http_port: int
    cert: Path
    process: subprocess.Popen | None = None

    @property
    def main_conf(self) -> Path:
        return self.directory / "nginx.conf"

    def configure(self, *, upstream: str, static_root: Path) -> str:
        site = render({
            "CAUTION_SERVER_NAME": SERVER_NAME,
            "CAUTION_HTTP_PORT": f"127.0.0.1:{self.http_port}",
            "CAUTION_HTTPS_PORT": f"127.0.0.1:{self.https_port}",
            "CAUTION_TLS_CERT": str(self.cert),
            "CAUTION_TLS_KEY": str(self.cert.with_suffix(".key")),
            "CAUTION_UPSTREAM": upstream,
            "CAUTION_STATIC_ROOT": str(static_root),
        })
        (self.directory / "caution.conf").write_text(site)
        self.main_conf.write_text(MAIN_CONF.format(dir=self.directory))
        return site

    def test_config(self) -> subprocess.CompletedProcess:
        return subprocess.run([nginx_binary(), "-t", "-c", str(self.main_conf), "-e", "stderr"],
                              capture_output=True, text=True, timeout=30)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [nginx_binary(), "-c", str(self.main_conf), "-e", "stderr", "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx stopped: {self.process.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nginx did not listen within 15 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def request(self, method: str, path: str, *, source: str = "127.0.0.2", headers: dict | None = None,
                body: bytes | None = None, sni: str = SERVER_NAME) -> "Answer":
        context = ssl.create_default_context(cafile=str(self.cert))
        connection = _SourcedHTTPSConnection(self.https_port, source=source, context=context, sni=sni)
        try:
            connection.request(method, path, body=body,
                               headers={"Host": f"{SERVER_NAME}:{self.https_port}", **(headers or {})})
            response = connection.getresponse()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()},
                          response.msg.get_all("Set-Cookie") or [], response.read())
        finally:
            connection.close()

    def plain_request(self, path: str) -> "Answer":
        connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        try:
            connection.request("GET", path, headers={"Host": SERVER_NAME})
            response = connection.getresponse()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, [], response.read())
        finally:
            connection.close()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    cookies: list[str]
    body: bytes


class _SourcedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS from a chosen source address, with the TLS server name given apart from the address dialled."""

    def __init__(self, port: int, *, source: str, context: ssl.SSLContext, sni: str):
        super().__init__("127.0.0.1", port, context=context, timeout=60, source_address=(source, 0))
        self._sni = sni

    def connect(self):
        sock = socket.create_connection((self.host, self.port), self.timeout, self.source_address)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._sni)
