"""Tiny random encoders of the families users bring, each with its own fast tokenizer, built offline.

    build(family, folder, texts) -> folder holding config.json, model.safetensors and the tokenizer files

The tokenizers are trained with the `tokenizers` library on the given texts (a few hundred SQuAD contexts) in
each family's own style: WordPiece with [CLS]/[SEP] (BERT, DistilBERT, ELECTRA), byte-level BPE with <s>/</s>
(RoBERTa: a pair is <s> A </s></s> B </s>, 4 special tokens), WordPiece with <s>/</s> and RoBERTa's pair
template (MPNet, no token_type_ids), a SentencePiece-style Unigram (XLM-R with <s>/</s>,
DeBERTa-v2/v3 with [CLS]/[SEP]), and ModernBERT's byte-level BPE whose offsets keep the leading space. The
weights are random (2 layers, hidden 64) and saved as safetensors, as from_pretrained folders are.
"""
from __future__ import annotations

from pathlib import Path

FAMILIES = ("bert", "roberta", "distilbert", "electra", "deberta-v2", "modernbert", "xlm-roberta", "mpnet")
VOCAB = 1200


def _wordpiece(texts, special=("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    t = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    t.normalizer = normalizers.BertNormalizer(lowercase=True)
    t.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    t.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=VOCAB, special_tokens=list(special)))
    return t.get_vocab()


def _bpe(texts, special):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=special,
                                                     initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return t


def _unigram(texts, special):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    t = Tokenizer(models.Unigram())
    t.pre_tokenizer = pre_tokenizers.Metaspace()
    t.train_from_iterator(texts, trainers.UnigramTrainer(vocab_size=VOCAB, special_tokens=special, unk_token="<unk>"
                                                         if "<unk>" in special else "[UNK]"))
    import json
    vocab = [tuple(x) for x in json.loads(t.to_str())["model"]["vocab"]]
    return vocab


def tokenizer_for(family: str, texts):
    import transformers as T
    if family in ("bert", "distilbert", "electra"):
        cls = {"bert": T.BertTokenizer, "distilbert": T.DistilBertTokenizer, "electra": T.ElectraTokenizer}[family]
        return cls(vocab=_wordpiece(texts))
    if family == "roberta":
        t = _bpe(texts, ["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
        import json
        m = json.loads(t.to_str())["model"]
        merges = [tuple(x) if isinstance(x, list) else tuple(x.split(" ")) for x in m["merges"]]
        return T.RobertaTokenizer(vocab=m["vocab"], merges=merges)
    if family == "mpnet":  # WordPiece with <s>/</s>, no token_type_ids, a pair as <s> A </s></s> B </s>
        return T.MPNetTokenizer(vocab=_wordpiece(texts, ("<s>", "<pad>", "</s>", "[UNK]", "<mask>")))
    if family == "xlm-roberta":
        return T.XLMRobertaTokenizer(vocab=_unigram(texts, ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]))
    if family == "deberta-v2":
        return T.DebertaV2Tokenizer(vocab=_unigram(texts, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]), unk_id=1)
    if family == "modernbert":  # its tokenizer.json: byte-level BPE, [CLS] A [SEP] B [SEP], offsets not trimmed
        from tokenizers import processors
        t = _bpe(texts, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
        t.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", t.token_to_id("[CLS]")), ("[SEP]", t.token_to_id("[SEP]"))])
        from tokenizers import decoders
        t.decoder = decoders.ByteLevel()
        return T.PreTrainedTokenizerFast(tokenizer_object=t, cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]",
                                         unk_token="[UNK]", mask_token="[MASK]",
                                         model_input_names=["input_ids", "attention_mask"])
    raise ValueError(family)


def config_for(family: str, tok):
    import transformers as T
    size = dict(vocab_size=len(tok), hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                intermediate_size=128, pad_token_id=tok.pad_token_id)
    if family == "bert":
        return T.BertConfig(**size, max_position_embeddings=512)
    if family == "electra":
        return T.ElectraConfig(**size, embedding_size=32, max_position_embeddings=512)
    if family == "distilbert":
        return T.DistilBertConfig(vocab_size=len(tok), dim=64, n_layers=2, n_heads=2, hidden_dim=128,
                                  max_position_embeddings=512, pad_token_id=tok.pad_token_id)
    if family in ("roberta", "xlm-roberta"):
        cls = T.RobertaConfig if family == "roberta" else T.XLMRobertaConfig
        return cls(**size, max_position_embeddings=514, type_vocab_size=1, bos_token_id=tok.cls_token_id,
                   eos_token_id=tok.sep_token_id)
    if family == "mpnet":  # all-mpnet-base-v2's layout: 514 positions (2 offset by the padding index)
        return T.MPNetConfig(**size, max_position_embeddings=514, bos_token_id=tok.cls_token_id,
                             eos_token_id=tok.sep_token_id)
    if family == "deberta-v2":  # DeBERTa-v3's layout: relative positions only
        return T.DebertaV2Config(**size, max_position_embeddings=512, relative_attention=True, position_buckets=32,
                                 pos_att_type=["p2c", "c2p"], position_biased_input=False, type_vocab_size=0,
                                 max_relative_positions=-1, norm_rel_ebd="layer_norm", share_att_key=True)
    if family == "modernbert":
        return T.ModernBertConfig(**size, max_position_embeddings=8192, global_attn_every_n_layers=2,
                                  local_attention=16, cls_token_id=tok.cls_token_id, sep_token_id=tok.sep_token_id,
                                  bos_token_id=tok.cls_token_id, eos_token_id=tok.sep_token_id)
    raise ValueError(family)


def build(family: str, folder, texts, task: str = "qa", padding_side: str = "right") -> str:
    """A tiny random model of `family` with a QA (task='qa') or 2-label sentiment head, saved in `folder`."""
    import torch
    import transformers as T
    tok = tokenizer_for(family, texts)
    tok.padding_side = tok.init_kwargs["padding_side"] = padding_side  # init_kwargs: what save_pretrained writes
    torch.manual_seed(0)
    cfg = config_for(family, tok)
    auto = T.AutoModelForQuestionAnswering if task == "qa" else T.AutoModelForSequenceClassification
    model = auto.from_config(cfg)
    Path(folder).mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return str(folder)
