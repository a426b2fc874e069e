"""bertdemo: fine-tune a BERT-family text classifier, export it to ONNX, compare back-ends."""

__version__ = "0.1.0"
