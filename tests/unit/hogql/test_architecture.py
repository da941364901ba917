import subprocess
import sys


def test_compiler_imports_without_web_or_orm():
    code = (
        "import sys, hedgerow.hogql, hedgerow.hogql.compile;"
        "bad = [m for m in ('fastapi', 'starlette', 'sqlalchemy') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
