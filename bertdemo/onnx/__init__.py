"""ONNX: export with Optimum (graph optimizer, int8 quantizer) and its checks against PyTorch, the back-ends
compared, timing.
"""
