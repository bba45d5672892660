"""Tiny randomly initialised models that tests build and save themselves (no downloads)."""

from __future__ import annotations

import json
from pathlib import Path


def byte_characters() -> list[str]:
    """GPT-2/CLIP byte-level alphabet: printable bytes as themselves, the rest shifted."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), 256))
    chars, extra = [], 0
    for byte in range(256):
        if byte in printable:
            chars.append(chr(byte))
        else:
            chars.append(chr(256 + extra))
            extra += 1
    return chars


def byte_level_vocab() -> dict[str, int]:
    """Every byte-level character, plain and word-final, plus CLIP's special tokens."""
    chars = byte_characters()
    tokens = chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"]
    return {token: index for index, token in enumerate(tokens)}


def build_tiny_clip(directory: Path) -> Path:
    import torch
    from transformers import (CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor,
                              CLIPTextConfig, CLIPTokenizer, CLIPVisionConfig)

    torch.manual_seed(0)
    vocab = byte_level_vocab()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.json").write_text(json.dumps(vocab))
    (directory / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"))
    text = CLIPTextConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                          num_attention_heads=2, max_position_embeddings=128,
                          bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"],
                          pad_token_id=vocab["<|endoftext|>"])
    vision = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                              image_size=32, patch_size=8)
    model = CLIPModel(CLIPConfig(text_config=text.to_dict(), vision_config=vision.to_dict(), projection_dim=16))
    image_processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    model.save_pretrained(directory)
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(directory)
    return directory


def build_tiny_ner(directory: Path) -> Path:
    """A 2-layer BERT token classifier with a tiny word-piece vocabulary and PER labels."""
    import torch
    from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast

    torch.manual_seed(0)
    directory.mkdir(parents=True, exist_ok=True)
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list("abcdefghijklmnopqrstuvwxyz0123456789.:/-")
    words += ["##" + c for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    (directory / "vocab.txt").write_text("\n".join(words) + "\n")
    tokenizer = BertTokenizerFast(str(directory / "vocab.txt"), do_lower_case=True)
    labels = ["O", "B-PER", "I-PER"]
    config = BertConfig(vocab_size=len(words), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, num_labels=len(labels),
                        id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
    model = BertForTokenClassification(config)
    with torch.no_grad():  # make every token a person, so the test knows what to expect
        model.classifier.bias.copy_(torch.tensor([-5.0, 5.0, 0.0]))
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
