"""bertdemo web app: `python app.py` (local: http://127.0.0.1:7860); Hugging Face Spaces imports `demo`."""

import logging
import os

# Before gradio is imported anywhere: no usage statistics leave this machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from bertdemo.hardware import torch_serve_threads  # noqa: E402 - no torch: it is not loaded yet

# Before torch loads: PyTorch's one-thread-per-core default stalls when a training job holds a core
# (config.SERVE_TORCH_THREADS); an OMP_NUM_THREADS set by the user still wins.
os.environ.setdefault("OMP_NUM_THREADS", str(torch_serve_threads()))

from bertdemo import service  # noqa: E402
from bertdemo.ui import build_app, launch_options, server_address  # noqa: E402

# Staging folders of a crashed or killed training are swept before anything can list runs.
service.sweep_staging()
service.expire_runs()  # visitors' runs unused for config.RUN_EXPIRY_DAYS
demo = build_app()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    host, port = server_address()
    demo.launch(server_name=host, server_port=port, **launch_options())
