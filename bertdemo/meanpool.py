"""A BERT classifier over mean-pooled token vectors: how sentence-transformer encoders were trained to be read.

BertForSequenceClassification reads the pooler's [CLS] output, which a sentence encoder such as all-MiniLM-L6-v2
never trained; its sentence vector is the mean of the token vectors (then L2-normalized). This class reads that
vector, so a linear head fitted on frozen features (the quick model) and fine-tuning share one architecture.
It keeps model_type "bert", so Optimum exports it with the BERT ONNX config and ONNX Runtime serves it unchanged;
config.json records `classifier_pooling` and `architectures`, which `load_classifier` reads to pick the class.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn
from transformers import BertModel, BertPreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

POOLING_KEY = "classifier_pooling"  # in config.json: "mean" selects this class
NORMALIZE_KEY = "classifier_normalize"  # in config.json: L2-normalize the pooled vector (as the encoder did)
ARCHITECTURE = "MeanPoolBertForSequenceClassification"


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor, normalize: bool) -> torch.Tensor:
    """The mean of the real (unpadded) token vectors of each text, L2-normalized when asked."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return nn.functional.normalize(pooled, p=2, dim=-1) if normalize else pooled


class MeanPoolBertForSequenceClassification(BertPreTrainedModel):
    """BERT encoder, mean pooling (optionally normalized), dropout, one linear layer to the labels."""

    def __init__(self, config):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.normalize = bool(getattr(config, NORMALIZE_KEY, False))
        self.bert = BertModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(config.classifier_dropout or config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def embed(self, input_ids=None, attention_mask=None, token_type_ids=None) -> torch.Tensor:
        """The sentence vectors the head reads (no dropout): what the quick model's probe is fitted on."""
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        hidden = self.bert(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]
        return mean_pool(hidden, attention_mask, self.normalize)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None, **_ignored):
        """Logits (and the cross-entropy loss when labels are given), as BertForSequenceClassification returns."""
        logits = self.classifier(self.dropout(self.embed(input_ids, attention_mask, token_type_ids)))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def is_mean_pool(model_config) -> bool:
    """True when a saved config.json says the classifier reads mean-pooled vectors."""
    return getattr(model_config, POOLING_KEY, None) == "mean"


def sentence_pooling(folder: str | Path) -> dict[str, bool] | None:
    """A sentence-transformers folder's pooling, {"normalize": bool}, when it is mean pooling; else None.

    Read from modules.json and its Pooling module's config (the files sentence-transformers itself reads).
    """
    folder = Path(folder)
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    kinds = {str(m.get("type", "")).rsplit(".", 1)[-1]: m for m in modules if isinstance(m, dict)}
    pooling = kinds.get("Pooling")
    if pooling is None:
        return None
    try:
        settings = json.loads((folder / str(pooling.get("path", "")) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not settings.get("pooling_mode_mean_tokens") or settings.get("pooling_mode_cls_token"):
        return None
    return {"normalize": "Normalize" in kinds}
