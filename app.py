"""bertdemo web app: `python app.py` (local: http://127.0.0.1:7860); Hugging Face Spaces imports `demo`."""

import logging
import os

# Before gradio is imported anywhere: no usage statistics leave this machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from bertdemo import config, store  # noqa: E402
from bertdemo.ui import build_app, launch_options  # noqa: E402

# Staging folders of a crashed or killed training are swept before anything can list runs.
store.sweep_staging()
demo = build_app()


def server_address() -> tuple[str, int]:
    """GRADIO_SERVER_NAME/PORT win; else 0.0.0.0 on Spaces (SPACE_ID is set there), 127.0.0.1 locally."""
    default_host = "0.0.0.0" if os.environ.get("SPACE_ID") else config.SERVER_NAME_LOCAL
    host = os.environ.get("GRADIO_SERVER_NAME") or default_host
    port = int(os.environ.get("GRADIO_SERVER_PORT") or config.SERVER_PORT)
    return host, port


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    host, port = server_address()
    demo.launch(server_name=host, server_port=port, **launch_options())
