"""Options and fixtures of the cross-language test (run by ctest; see CMakeLists.txt).

ctest passes the programs under test:
  --chat-server PATH   the C++ server (required for the chat tests)
  --cpp-client PATH    the C++ line client; absent only while its target does not exist
  --go-client PATH     the Go client built by scripts/setup/go.sh
  --hostile-server PATH  test/support/hostile_server.cc, the stub of test_hostile_server.py
The Python client runs under the interpreter running pytest (the .venv one).
"""

import os
import subprocess
import sys

import pytest

from harness import Processes

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PYTHON_CLIENT = os.path.join(ROOT, "interop", "python", "chat_client.py")
ORIGINAL_CLIENT = os.path.join(HERE, "original_client.py")


def pytest_addoption(parser):
    group = parser.getgroup("interop")
    group.addoption("--chat-server", help="path of the C++ chat-server")
    group.addoption("--cpp-client", help="path of the C++ chat-client (omit to skip it)")
    group.addoption("--go-client", help="path of chat-client-go (scripts/setup/go.sh builds it)")
    group.addoption("--hostile-server", help="path of the hostile_server stub (built with the tests)")


def _program(config, option, hint):
    path = config.getoption(option)
    if not path:
        pytest.fail("%s is needed (ctest passes it; %s)" % (option, hint), pytrace=False)
    if not os.access(path, os.X_OK):
        pytest.fail("%s %s is not an executable (%s)" % (option, path, hint), pytrace=False)
    return path


@pytest.fixture(scope="session")
def server_binary(pytestconfig):
    return _program(pytestconfig, "--chat-server", "build the C++ server with cmake")


@pytest.fixture(scope="session")
def hostile_server_binary(pytestconfig):
    return _program(pytestconfig, "--hostile-server", "build the hostile_server target with cmake")


@pytest.fixture(scope="session")
def client_commands(pytestconfig):
    """The command that starts each language's line client, by language; cpp may be None."""
    commands = {
        "go": [_program(pytestconfig, "--go-client", "run scripts/setup/go.sh")],
        "py": [sys.executable, PYTHON_CLIENT],
        "cpp": None,
    }
    cpp = pytestconfig.getoption("--cpp-client")
    if cpp:
        commands["cpp"] = [_program(pytestconfig, "--cpp-client", "build the C++ client")]
    return commands


@pytest.fixture(scope="session")
def original_gen_dir(tmp_path_factory):
    """chat_original.proto compiled with grpcio-tools, at test time, into a temporary directory."""
    out = tmp_path_factory.mktemp("original-gen")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            "-I",
            HERE,
            "--python_out=%s" % out,
            "--grpc_python_out=%s" % out,
            os.path.join(HERE, "chat_original.proto"),
        ],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    return str(out)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "report_" + report.when, report)


@pytest.fixture
def processes(request):
    """Every process the test starts; all are killed by PID when it ends."""
    started = Processes()
    yield started
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed and started.all:
        sys.stderr.write("\nprocesses of %s:\n%s\n" % (request.node.name, started.describe()))
    started.stop_all()


@pytest.fixture
def proxies():
    """Starts Proxy objects (harness.Proxy) for a test; all are stopped when it ends."""
    from harness import Proxy

    started = []

    def start(upstream_address):
        proxy = Proxy(upstream_address)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()
