"""The entry points' flags: Hugging Face's HfArgumentParser over their dataclasses, with a flag that the script
does not take (a typo, another script's flag) as one error line instead of a ValueError traceback."""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UserError


def parse_flags(types, argv=None):
    """The dataclasses of `types` from argv (default sys.argv[1:]), or from one .json file of flag values."""
    from transformers import HfArgumentParser
    argv = sys.argv[1:] if argv is None else list(argv)
    full_eval = next((f for f in ("--bf16_full_eval", "--fp16_full_eval") if any(x.split("=")[0] == f for x in argv)), None)
    if full_eval:  # the Trainer's flag casts the model in place: a trained model saved after it would lose fp32
        raise UserError(f"{full_eval} is not taken here; use --prediction_precision bf16 (predictions autocast, "
                        "weights kept in fp32)")
    parser = HfArgumentParser(types)
    prog = Path(sys.argv[0]).name
    if len(argv) == 1 and argv[0].endswith(".json"):
        try:
            return parser.parse_json_file(argv[0])
        except ValueError as e:  # keys no dataclass has
            raise UserError(f"{argv[0]}: {str(e).splitlines()[0]}; see {prog} --help") from None
    *parsed, rest = parser.parse_args_into_dataclasses(args=argv, return_remaining_strings=True)
    if rest:
        raise UserError(f"{prog} does not take {' '.join(rest)}; see {prog} --help for its flags")
    return tuple(parsed)
