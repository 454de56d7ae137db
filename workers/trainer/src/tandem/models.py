"""Loading models and tokenizers from local paths, and the senior/junior tokenizer compatibility rule."""

from __future__ import annotations

from pathlib import Path

import torch


class IncompatibleJunior(ValueError):
    """The junior must share the senior's tokenizer: tandem rollouts hand token ids from one model to the other."""


def load_tokenizer(path: str | Path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


class UnsafeWeights(ValueError):
    """A model directory whose weights are pickle files (pytorch_model*.bin): unpickling can run code, so only
    safetensors weights are loaded."""


SAFETENSORS_FILES = ("model.safetensors", "model.safetensors.index.json")


def load_model(path: str | Path, device: str | torch.device = "cpu", dtype: torch.dtype | None = None):
    from transformers import AutoModelForCausalLM

    path = Path(path)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path}: not a model directory (no config.json)")
    if not any((path / name).is_file() for name in SAFETENSORS_FILES):
        if any(path.glob("pytorch_model*.bin")):
            raise UnsafeWeights(f"{path}: the weights are in pytorch_model*.bin (pickle) only, and only safetensors "
                                "weights are loaded; convert them with model.save_pretrained(dir)")
        raise FileNotFoundError(f"{path}: no weights file ({' or '.join(SAFETENSORS_FILES)})")
    # use_safetensors=True: transformers never falls back to a pickle file, whatever else lies in the directory
    model = AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True, dtype=dtype or torch.float32,
                                                 use_safetensors=True)
    return model.to(device).eval()


def load_model_and_tokenizer(path: str | Path, device: str | torch.device = "cpu", dtype: torch.dtype | None = None):
    return load_model(path, device, dtype), load_tokenizer(path)


def check_same_tokenizer(senior_tokenizer, junior_tokenizer, senior_name: str = "senior", junior_name: str = "junior"):
    """Refuse a junior whose tokenizer differs from the senior's (cross-tokenizer handoff is not supported yet)."""
    s_vocab, j_vocab = senior_tokenizer.get_vocab(), junior_tokenizer.get_vocab()
    if s_vocab != j_vocab:
        only_s = len(set(s_vocab.items()) - set(j_vocab.items()))
        only_j = len(set(j_vocab.items()) - set(s_vocab.items()))
        raise IncompatibleJunior(
            f"junior tokenizer ({junior_name}) differs from the senior's ({senior_name}): vocab sizes "
            f"{len(s_vocab)} vs {len(j_vocab)}, {only_s} entries only in the senior's, {only_j} only in the junior's. "
            "The junior must share the senior's tokenizer; cross-tokenizer handoff is not supported."
        )
    if senior_tokenizer.eos_token_id != junior_tokenizer.eos_token_id:
        raise IncompatibleJunior(
            f"junior eos token id {junior_tokenizer.eos_token_id} differs from the senior's {senior_tokenizer.eos_token_id}"
        )
