"""Question/context -> overlapping token windows with span labels (train) or offset maps (eval).

Conventions (those of the BERT paper and the Hugging Face examples): question first, only the context is
truncated, consecutive windows overlap by `doc_stride` tokens, and a window whose context does not hold
the whole answer (or an unanswerable question) is labelled with its CLS position. The layout (special tokens,
token_type_ids) is the tokenizer's own template: RoBERTa's <s> q </s></s> c </s> as well as BERT's [CLS] q [SEP]
c [SEP]. Windows are not padded here; the collator pads on the right (bertkit.train.modeling.fit_tokenizer), so token
positions, the labels and the CLS index hold in every batch.
"""
from __future__ import annotations

import os

CONTEXT = 1  # the context's sequence id in a question/context pair (tokenizer sequence_ids: question 0, context 1)


def _truncate_questions(tokenizer, questions, max_query_length):
    """Cut each question to its first `max_query_length` tokens (by character offset, so text stays text)."""
    questions = [q.lstrip() for q in questions]  # leading spaces break offsets in some tokenizers
    enc = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
    return [q if len(offs) <= max_query_length else q[:offs[max_query_length - 1][1]]
            for q, offs in zip(questions, enc["offset_mapping"])]


def cls_index(input_ids, tokenizer) -> int:
    """Where the no-answer (CLS) token of a window is: the tokenizer's cls (or bos) token, else position 0."""
    for tid in (tokenizer.cls_token_id, tokenizer.bos_token_id):
        if tid is not None and tid in input_ids:
            return input_ids.index(tid)
    return 0


def _tokenize(examples, tokenizer, max_seq_length, doc_stride, max_query_length):
    questions = _truncate_questions(tokenizer, examples["question"], max_query_length)
    return tokenizer(questions, examples["context"], truncation="only_second", max_length=max_seq_length,
                     stride=doc_stride, return_overflowing_tokens=True, return_offsets_mapping=True, padding=False)


def prepare_train_features(examples, tokenizer, max_seq_length=384, doc_stride=128, max_query_length=64):
    enc = _tokenize(examples, tokenizer, max_seq_length, doc_stride, max_query_length)
    sample_map = enc.pop("overflow_to_sample_mapping")
    offsets_all = enc.pop("offset_mapping")
    enc["start_positions"], enc["end_positions"] = [], []
    for i, offsets in enumerate(offsets_all):
        cls = cls_index(enc["input_ids"][i], tokenizer)
        seq_ids = enc.sequence_ids(i)
        answers = examples["answers"][sample_map[i]]
        start = end = cls
        if answers["answer_start"]:
            s_char = answers["answer_start"][0]
            e_char = s_char + len(answers["text"][0])
            ctx = [k for k, s in enumerate(seq_ids) if s == CONTEXT]
            t0, t1 = ctx[0], ctx[-1]
            if offsets[t0][0] <= s_char and offsets[t1][1] >= e_char:  # whole answer inside this window
                # first token ending after the answer starts; last token starting before it ends
                start = next(k for k in range(t0, t1 + 1) if offsets[k][1] > s_char)
                end = next(k for k in range(t1, t0 - 1, -1) if offsets[k][0] < e_char)
        enc["start_positions"].append(start)
        enc["end_positions"].append(end)
    return enc


def prepare_eval_features(examples, tokenizer, max_seq_length=384, doc_stride=128, max_query_length=64):
    enc = _tokenize(examples, tokenizer, max_seq_length, doc_stride, max_query_length)
    sample_map = enc.pop("overflow_to_sample_mapping")
    enc["example_id"], enc["cls_index"] = [], []
    for i in range(len(enc["input_ids"])):
        seq_ids = enc.sequence_ids(i)
        enc["example_id"].append(examples["id"][sample_map[i]])
        enc["cls_index"].append(cls_index(enc["input_ids"][i], tokenizer))
        # keep offsets only for context tokens: postprocessing then never proposes a question token
        enc["offset_mapping"][i] = [o if seq_ids[k] == CONTEXT else None for k, o in enumerate(enc["offset_mapping"][i])]
    return enc


def featurize(ds, tokenizer, train: bool, data_args, main_process_first=None):
    """datasets.map over whole questions; cached on disk by fingerprint (no pickle files of our own).

    Under several processes the main process maps first and the others read its cache. Returns
    (windows, from_cache): from_cache is True when this process read the map from the datasets cache.
    """
    import contextlib
    import time
    fn = prepare_train_features if train else prepare_eval_features
    ctx = main_process_first(desc=f"featurize {'train' if train else 'eval'}") if main_process_first else contextlib.nullcontext()
    with ctx:
        started = time.time()  # inside: a waiting process starts its clock after the main process wrote the cache
        out = ds.map(fn, batched=True, remove_columns=ds.column_names, num_proc=data_args.preprocessing_num_workers,
                     load_from_cache_file=not data_args.overwrite_cache,
                     fn_kwargs=dict(tokenizer=tokenizer, max_seq_length=data_args.max_seq_length,
                                    doc_stride=data_args.doc_stride, max_query_length=data_args.max_query_length),
                     desc=f"Windows for {'training' if train else 'evaluation'}")
    files = [f["filename"] for f in out.cache_files]
    return out, bool(files) and all(os.path.getmtime(f) <= started for f in files)
