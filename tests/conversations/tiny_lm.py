"""A tiny causal language model built in the test from a config: no download, a few KB."""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "that sounds heavy and it makes sense that you feel this way",
    "what feels most important right now",
    "thank you for sharing this with me",
    "let us breathe slowly together",
    "system user ari you are a gentle coach session step validate",
]


def build_tiny_lm(directory: Path) -> Path:
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    special = ["[UNK]", "[PAD]", "[EOS]"]
    tokenizer.train_from_iterator(CORPUS, trainers.WordLevelTrainer(special_tokens=special))
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]"
    )
    fast.save_pretrained(directory)
    config = GPT2Config(
        vocab_size=len(fast),
        n_layer=1,
        n_head=2,
        n_embd=32,
        n_positions=512,
        bos_token_id=fast.eos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
    )
    torch.manual_seed(0)
    model = GPT2LMHeadModel(config)
    with torch.no_grad():
        # Zero logits for the special tokens, so the untrained model always says some words.
        model.transformer.wte.weight[[fast.convert_tokens_to_ids(t) for t in special]] = 0.0
    model.save_pretrained(directory)
    return directory
