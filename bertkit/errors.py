"""One exception type for bad input: the scripts print its message as one line and exit non-zero."""
import sys


class UserError(Exception):
    """A problem with what the user gave us; the message names the problem and the fix."""


def exit_on_user_error(main):
    """Run main(); turn a UserError into `error: <message>` on stderr and exit code 2."""
    try:
        return main()
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
