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


def build_tiny_lora(model_dir: Path, directory: Path, *, seed: int = 1234):
    """A LoRA adapter on the tiny LM in ``model_dir`` whose weights are perturbed (``lora_B``
    starts at zero: unperturbed, the adapter would be a no-op), saved in ``directory``.
    Returns the adapted model as saved (in memory, eval mode)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["c_attn"], fan_in_fan_out=True)
    adapted = get_peft_model(base, config)
    seeded = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        lora = [p for n, p in adapted.named_parameters() if "lora_A" in n or "lora_B" in n]
        assert lora, "LoraConfig matched no module of the tiny model"
        for parameter in lora:
            parameter.copy_(torch.randn(parameter.shape, generator=seeded))
    adapted.eval()
    adapted.save_pretrained(directory)
    return adapted
