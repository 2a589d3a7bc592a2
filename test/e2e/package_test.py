"""The Debian package (packaging/package.cmake): what `cpack` puts in it, and
that it installs into a throwaway root (dpkg --root) with its system user,
its conffile and a unit that `systemd-analyze verify` accepts.

The root is a temporary directory holding only what the checks need; dpkg runs
the maintainer scripts outside it (--force-script-chrootless, with DPKG_ROOT
set, which the scripts honour), and --force-depends because the root has none
of the libraries. Nothing outside the temporary directories is touched.
"""
import glob
import os
import shutil
import subprocess
import tempfile
import unittest

BUILD = os.environ.get("CHAT_BUILD_DIR", "build")
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
EXPECTED = {
    "./usr/bin/chat-server",
    "./usr/bin/chat-client",
    "./usr/lib/systemd/system/chat-server.service",
    "./usr/lib/sysusers.d/grpc-chat.conf",
    "./etc/grpc-chat/chat-server.toml",
    "./usr/share/doc/grpc-chat/deploy.md",
    "./usr/share/doc/grpc-chat/operations.md",
    "./usr/share/doc/grpc-chat/copyright",
}


def run(*argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, **kwargs)


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        made = run("cpack", "-G", "DEB", "--config", os.path.join(BUILD, "CPackConfig.cmake"),
                   "-B", cls.tmp.name)
        if made.returncode != 0:
            raise RuntimeError("cpack failed:\n" + made.stdout + made.stderr)
        (cls.deb,) = glob.glob(os.path.join(cls.tmp.name, "grpc-chat_*.deb"))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_contents(self):
        listing = run("dpkg-deb", "-c", self.deb, check=True).stdout
        paths = {line.split()[-1] for line in listing.splitlines()}
        self.assertLessEqual(EXPECTED, paths, listing)
        self.assertTrue(all(p.startswith(("./usr/", "./etc/grpc-chat/")) or p == "./etc/"
                            for p in paths), listing)
        self.assertEqual(run("dpkg-deb", "-f", self.deb, "Package").stdout.strip(), "grpc-chat")
        depends = run("dpkg-deb", "-f", self.deb, "Depends").stdout
        self.assertIn("libgrpc++1.51", depends)
        control = tempfile.mkdtemp(dir=self.tmp.name)
        run("dpkg-deb", "-e", self.deb, control, check=True)
        with open(os.path.join(control, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/grpc-chat/chat-server.toml"])

    def test_installs_into_a_throwaway_root(self):
        root = tempfile.mkdtemp(dir=self.tmp.name)
        for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "etc", "usr/bin",
                  "usr/lib/systemd/system"):
            os.makedirs(os.path.join(root, d))
        open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
        for name in ("passwd", "group", "shadow", "gshadow"):
            with open(os.path.join(root, "etc", name), "w") as f:
                f.write("root:x:0:0:root:/root:/bin/sh\n" if name == "passwd" else
                        "root:x:0:\n" if name == "group" else "root:*::\n" if name == "gshadow"
                        else "root:*:19000:0:99999:7:::\n")
        dpkg = ["dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends",
                "--log=/dev/null"]
        installed = run(*dpkg, "-i", self.deb)
        self.assertEqual(installed.returncode, 0, installed.stdout + installed.stderr)
        with open(os.path.join(root, "etc/passwd")) as f:
            self.assertRegex(f.read(), r"(?m)^chat:x:\d+:\d+:grpc-chat server:/nonexistent:")
        # The installed server runs (with this machine's libraries) and its
        # example config is the one it would print.
        server = os.path.join(root, "usr/bin/chat-server")
        printed = run(server, "example-config", check=True).stdout
        with open(os.path.join(root, "etc/grpc-chat/chat-server.toml")) as f:
            self.assertEqual(f.read(), printed)

        # systemd-analyze verify: the unit, its ExecStart and ExecReload, in
        # the root; it needs the targets the unit orders itself after.
        for target in glob.glob("/usr/lib/systemd/system/*.target") + glob.glob(
                "/lib/systemd/system/*.target"):
            dest = os.path.join(root, "usr/lib/systemd/system", os.path.basename(target))
            if not os.path.exists(dest):
                shutil.copy(target, dest)
        shutil.copy(shutil.which("kill"), os.path.join(root, "usr/bin/kill"))
        os.symlink("usr/bin", os.path.join(root, "bin"))
        verified = run("systemd-analyze", "verify", f"--root={root}", "chat-server.service")
        self.assertEqual(verified.returncode, 0, verified.stderr)
        self.assertEqual(verified.stdout + verified.stderr, "")  # warnings too

        # Removing keeps the edited config (a conffile), purging does not.
        config = os.path.join(root, "etc/grpc-chat/chat-server.toml")
        with open(config, "a") as f:
            f.write("history = 50\n")
        removed = run(*dpkg, "-r", "grpc-chat")
        self.assertEqual(removed.returncode, 0, removed.stdout + removed.stderr)
        self.assertFalse(os.path.exists(server))
        self.assertTrue(os.path.exists(config))
        purged = run(*dpkg, "--purge", "grpc-chat")
        self.assertEqual(purged.returncode, 0, purged.stdout + purged.stderr)
        self.assertFalse(os.path.exists(config))

    def test_unit_in_the_source_is_the_one_packaged(self):
        extracted = tempfile.mkdtemp(dir=self.tmp.name)
        run("dpkg-deb", "-x", self.deb, extracted, check=True)
        with open(os.path.join(extracted, "usr/lib/systemd/system/chat-server.service")) as a, \
                open(os.path.join(SOURCE, "packaging/chat-server.service")) as b:
            self.assertEqual(a.read(), b.read())


if __name__ == "__main__":
    unittest.main()
