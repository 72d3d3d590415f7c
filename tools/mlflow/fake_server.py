"""A stand-in for an MLflow tracking server, for swift-tune's tests of what happens when the real one misbehaves.
Listens on 127.0.0.1 (a free port, printed on the first line of standard output) and, for every request:

  --status N                 answers N with {"message": "..."} (401: the token is wrong, say)
  --delay S                  answers 200 after S seconds with JSON that serves runs/create, experiments/get-by-name
                             and the rest (a server that is slow but steady)
  --proxy URL --fail PATTERN --while FILE
                             forwards to URL, but answers 500 to requests whose path contains PATTERN while FILE
                             exists (a server that fails in the middle of an operation, then recovers)

  python3 tools/mlflow/fake_server.py --status 401

A dev-time tool: swift-tune never runs Python."""
import argparse, http.server, json, os, signal, socketserver, sys, time, urllib.error, urllib.request

# A parent that blocks SIGTERM hands the block down: unblock it, so that terminating this server works.
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])

parser = argparse.ArgumentParser()
parser.add_argument("--status", type=int)
parser.add_argument("--delay", type=float)
parser.add_argument("--proxy")
parser.add_argument("--fail", default="")
parser.add_argument("--while", dest="flag", default="")
args = parser.parse_args()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, status, body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if args.status:
            return self.answer(args.status, {"message": f"fake server: {args.status}"})
        if args.delay is not None:
            time.sleep(args.delay)
            return self.answer(200, {"experiment_id": "1", "experiment": {"experiment_id": "1"},
                                     "run": {"info": {"run_id": "0" * 32}}, "runs": []})
        if args.fail and args.fail in self.path and os.path.exists(args.flag):
            return self.answer(500, {"message": "fake server: failing " + args.fail})
        request = urllib.request.Request(args.proxy.rstrip("/") + self.path, data=body, method=self.command)
        for key in ("Content-Type", "Authorization"):
            if self.headers.get(key):
                request.add_header(key, self.headers[key])
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return self.answer(r.status, r.read())
        except urllib.error.HTTPError as e:
            return self.answer(e.code, e.read())

    do_GET = do_POST = do_PUT = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
