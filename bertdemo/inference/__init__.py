"""Using a saved run: the back-ends (PyTorch, ONNX Runtime variants), the predictor cache, batch prediction,
explanations.
"""
