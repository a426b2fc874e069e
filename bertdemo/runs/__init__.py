"""Saved runs in models/: the store (atomic writes), who sees which run, the run.json records, the model card, temp
folders and their byte budget, visitors' quotas and expiry.
"""
