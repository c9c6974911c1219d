"""One exception type for bad input: the scripts print its message as one line and exit non-zero."""
import sys


class UserError(Exception):
    """A problem with what the user gave us; the message names the problem and the fix."""


def user_error_in(e):
    """The UserError an exception carries (libraries such as `datasets` wrap what our code raised)."""
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, UserError):
            return e
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return None


def exit_on_user_error(main):
    """Run main(); a UserError (also one wrapped by a library) becomes `error: <message>` on stderr and exit
    code 2; Ctrl-C becomes one line and exit code 130 (checkpoints already written stay usable)."""
    try:
        return main()
    except KeyboardInterrupt:
        print("interrupted (Ctrl-C): stopped; checkpoints already in the output folder are kept: rerun the same "
              "command with --resume_from_checkpoint <output_dir> to go on", file=sys.stderr)
        sys.exit(130)
    except Exception as e:
        inner = user_error_in(e)
        if inner is None:
            raise
        print("error: " + str(inner).replace("\n", " "), file=sys.stderr)  # one line, whatever the message holds
        sys.exit(2)
