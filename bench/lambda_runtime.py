"""The pieces of a minimal Lambda Runtime API that bench/lambda_answer.py and bench/lambda_cold.py
share: the documented endpoints `GET /2018-06-01/runtime/invocation/next` (answered with one
event, its request id and a deadline 15 min ahead, Lambda's maximum) and
`POST .../invocation/<id>/response` or `/error` (the body read whole, plain or chunked, and
answered 202); the server on 127.0.0.1 (a free port) in a daemon thread; the function's
Lambda environment. Each script's handler subclasses `RuntimeHandler` and keeps its own state
(when /next came, the answer). No third-party imports.
"""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NEXT = "/2018-06-01/runtime/invocation/next"


class RuntimeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def not_found(self):
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send_event(self, event, request_id):
        """Answers /next with `event` (bytes) as the invocation `request_id`."""
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 900_000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                         "arn:aws:lambda:us-east-1:123456789012:function:s3-prune")
        self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(event)))
        self.end_headers()
        self.wfile.write(event)
        self.wfile.flush()

    def read_body(self):
        """The POSTed body (Content-Length or chunked), whole."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
            return body
        return self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))

    def accepted(self):
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()


def serve(handler):
    """A ThreadingHTTPServer for `handler` on 127.0.0.1 (a free port), serving in a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def lambda_env(server):
    """The function's Lambda variables (runtime API address, name, memory, version) and test keys."""
    return dict(AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}",
                AWS_LAMBDA_FUNCTION_NAME="s3-prune", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
                AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_ACCESS_KEY_ID="test",
                AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1")
