"""The real pre-trained MiniLM learns SQuAD spans (a couple of minutes on 2 CPU cores)."""
import pytest
from transformers import DataCollatorWithPadding, TrainingArguments

from bertkit.data import squad as D
from bertkit.qa import arguments as A
from bertkit.qa import steps as S
from bertkit.qa.features import featurize
from bertkit.qa.inference import demo
from bertkit.qa.trainer import QuestionAnsweringTrainer
from bertkit.train.modeling import load_qa_model


@pytest.fixture(scope="module")
def setup(dev_file, minilm_path, tmp_path_factory):
    splits, _ = D.load_squad(validation_file=dev_file, protocol="dev-split")
    qs = D.limit_questions(splits["train"], 48, seed=0, max_unanswerable_fraction=0.0)
    data_args = A.DataArguments(max_seq_length=192, doc_stride=64)
    tok, model = load_qa_model(minilm_path, seed=0)
    args = TrainingArguments(output_dir=str(tmp_path_factory.mktemp("minilm")), per_device_train_batch_size=8,
                             learning_rate=3e-4, warmup_steps=0.1, num_train_epochs=5, logging_steps=3,
                             save_strategy="no", report_to="none", seed=0, disable_tqdm=True)
    train_feats, _ = featurize(qs, tok, True, data_args)
    eval_feats, _ = featurize(qs, tok, False, data_args)
    trainer = QuestionAnsweringTrainer(model=model, args=args, train_dataset=train_feats, processing_class=tok,
                                       data_collator=DataCollatorWithPadding(tok), data_args=data_args)
    before, _, _ = S.evaluate(trainer, qs, eval_feats, data_args, None, write=False)
    demo_before = demo(model, tok)
    trainer.train()
    after, _, _ = S.evaluate(trainer, qs, eval_feats, data_args, None, write=False)
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return before, after, losses, demo_before, demo(trainer.model, tok)


def test_loss_falls(setup):
    losses = setup[2]
    print(f"\nMiniLM loss log: {[round(x, 2) for x in losses]}")
    assert losses[-1] < 0.6 * losses[0]


def test_span_f1_rises_well_above_untrained(setup):
    before, after = setup[0], setup[1]
    print(f"\nspan F1 on its 48 training questions: before {before['nonnull_HasAns_f1']:.1f}, after {after['nonnull_HasAns_f1']:.1f}")
    assert after["nonnull_HasAns_f1"] > before["nonnull_HasAns_f1"] + 30
