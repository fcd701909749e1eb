"""``google.colab.files`` for the Colab simulation: both functions wait for a person in
Colab, so a "Run all" that reaches one could never finish by itself.  Here they raise."""

__all__ = ["WaitsForAPerson", "download", "upload"]


class WaitsForAPerson(RuntimeError):
    """A cell called something that, in Colab, waits until a person clicks."""


def _refuse(call: str, what: str) -> WaitsForAPerson:
    return WaitsForAPerson(
        f"{call} reached during Run all: in Colab it {what} and waits for a person, so the "
        "notebook would hang here. Keep such cells off by default (e.g. TRY_IT = False) "
        "and let the reader switch them on.")


def upload(*args, **kwargs):
    raise _refuse("google.colab.files.upload()", "opens a file picker")


def download(filename, *args, **kwargs):
    raise _refuse(f"google.colab.files.download({filename!r})", "asks the browser to save a file")
