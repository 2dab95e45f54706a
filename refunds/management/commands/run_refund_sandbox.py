"""manage.py run_refund_sandbox: the sandbox payment provider over HTTP (refunds.sandbox), for the HTTP
adapter (REFUND_GATEWAY=refunds.sandbox.HttpGateway) in development, the slow tests and bench/refunds.py."""


from aftersales.management.base import RecordedCommand
from refunds.sandbox import Faults, Sandbox, SandboxServer


class Command(RecordedCommand):
    help = "Serve the sandbox payment provider on 127.0.0.1, paying into the GatewayPayout ledger."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--latency-ms", type=int, default=0, help="added to every call")
        parser.add_argument("--decline-rate", type=float, default=0.0, help="share of keys declined (0-1)")
        parser.add_argument("--error-rate", type=float, default=0.0, help="share of calls failing before anything is done")
        parser.add_argument("--timeout-after-success-rate", type=float, default=0.0,
                            help="share of refunds paid and then answered only after --hang-ms")
        parser.add_argument("--hang-ms", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=None, help="makes the faults repeatable")

    def handle(self, *args, **options):
        faults = Faults(latency_ms=options["latency_ms"], decline_rate=options["decline_rate"],
                        error_rate=options["error_rate"],
                        timeout_after_success_rate=options["timeout_after_success_rate"], hang_ms=options["hang_ms"])
        server = SandboxServer((options["host"], options["port"]), Sandbox(faults, seed=options["seed"]))
        host, port = server.server_address[:2]
        self.stdout.write(f"refund sandbox listening on http://{host}:{port} ({faults})")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("refund sandbox stopped")
        finally:
            server.server_close()
