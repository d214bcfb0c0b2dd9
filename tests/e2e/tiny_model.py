"""A tiny random Llama model and tokenizer, built offline, for real `inspect eval --model hf/local`.

It answers nonsense, but it runs every layer of the real path: transformers loads it from a
directory, applies the chat template and generates, on a CPU, in seconds.
"""

from __future__ import annotations

import os
from pathlib import Path

# Never reach for the hub: there is no network, and a lookup only costs retries.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<pad>", "<|system|>", "<|user|>", "<|assistant|>"]

# Each message is its role token, its content and </s>; a generation prompt opens the
# assistant's turn.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>' + message['content'] + '</s>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)

TRAINING_LINES = [
    "Capitalize the given word: hello",
    "HELLO WORLD, answer with one word.",
    "You are a terse assistant: say \"yes\" or \"no\".",
    "the quick brown fox jumps over the lazy dog",
    "{input} $HOME 123, 456: [list] {braces}",
]


def build_tiny_model(directory: Path, seed: int = 0) -> Path:
    """Save a seeded 2-layer Llama (about 41k parameters) and its tokenizer into `directory`."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def build_tokenizer():
    """A byte-level BPE tokenizer (vocabulary about 320) trained on a few in-memory lines."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE(unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=SPECIAL_TOKENS,
        # Every byte is in the vocabulary, so any prompt text encodes without <unk>.
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(TRAINING_LINES, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        additional_special_tokens=SPECIAL_TOKENS[4:],
        chat_template=CHAT_TEMPLATE,
    )
