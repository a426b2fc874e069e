"""Fine-tuning: the pipeline every caller shares, settings chosen for the data, the Trainer and its callbacks,
progress, several processes, the bag-of-words baseline, base models.
"""
