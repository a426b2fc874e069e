"""Background training jobs for the app: one at a time, in a subprocess or a thread (ZeroGPU), pollable and
stoppable.
"""
