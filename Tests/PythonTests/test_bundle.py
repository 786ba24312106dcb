"""`deploy bundle`: export, verify, inspect, import, read back by Python's own tarfile; the SBOM validated against
the CycloneDX 1.5 schema (committed in Fixtures/cyclonedx, with its licence); exports are byte-identical; split
bundles rejoin; and every tampered archive (crafted here with tarfile) is refused by verify and by import, which then
leaves nothing behind. Run by scripts/test against the debug build."""
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import unittest

import jsonschema
import referencing

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
DEPLOY = os.path.join(ROOT, ".build", "debug", "deploy")
CYCLONEDX = os.path.join(HERE, "Fixtures", "cyclonedx")
MODEL = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures", "models", "llama-q4_0.gguf")
EPOCH = "1764547200"


def deploy(*arguments, epoch=EPOCH):
    environment = dict(os.environ, SOURCE_DATE_EPOCH=epoch) if epoch else dict(os.environ)
    return subprocess.run([DEPLOY, *arguments], capture_output=True, text=True, env=environment)


def read_bytes(path):
    with open(path, "rb") as file:
        return file.read()


def write_bytes(path, data):
    with open(path, "wb") as file:
        file.write(data)


def read_json(path):
    with open(path) as file:
        return json.load(file)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class BundleFixture(unittest.TestCase):
    """A copy of the default stack with stand-in artifacts and a real GGUF model, a key pair, and its bundle."""

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="bundle-tests-")
        stacks = os.path.join(cls.work, "Stacks")
        os.makedirs(os.path.join(stacks, "artifacts"))
        shutil.copy(os.path.join(ROOT, "Stacks", "private-inference.json5"), stacks)
        for name in ("inference-server", "keys.json"):
            with open(os.path.join(stacks, "artifacts", name), "w") as out:
                out.write(f"a stand-in for {name}\n")
        shutil.copy(MODEL, os.path.join(stacks, "artifacts", "model.gguf"))
        shutil.copytree(os.path.join(ROOT, "Templates"), os.path.join(cls.work, "Templates"))
        cls.stack = os.path.join(stacks, "private-inference.json5")
        cls.key = os.path.join(cls.work, "signing")
        result = deploy("bundle", "keygen", "--out", cls.key)
        assert result.returncode == 0, result.stderr
        cls.bundle = cls.export("site.bundle")

    @classmethod
    def export(cls, name, *extra, epoch=EPOCH):
        path = os.path.join(cls.work, name)
        result = deploy("bundle", "export", "--stack", cls.stack, "--out", path, "--sign-key", cls.key,
                        "--model", MODEL, *extra, epoch=epoch)
        assert result.returncode == 0, result.stderr
        return path

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, True)

    def verify(self, path, key=None):
        return deploy("bundle", "verify", path, "--pubkey", (key or self.key) + ".pub")


class RoundTripTests(BundleFixture):
    def test_export_verify_inspect_import(self):
        self.assertEqual(os.stat(self.key).st_mode & 0o777, 0o600, "the private key is readable by its owner only")
        verified = self.verify(self.bundle)
        self.assertEqual(verified.returncode, 0, verified.stderr)
        inspected = json.loads(deploy("--output", "json", "bundle", "inspect", self.bundle).stdout)
        roles = {file["path"]: file["role"] for file in inspected["files"]}
        self.assertEqual(roles["Stacks/private-inference.json5"], "stack")
        self.assertEqual(roles["Stacks/artifacts/model.gguf"], "artifact")
        self.assertEqual(roles["models/llama-q4_0.gguf"], "model")
        self.assertEqual(roles["bin/deploy"], "deploy")
        self.assertIn("Templates/node/boot.sh", roles)
        self.assertEqual(inspected["created"], "2025-12-01T00:00:00Z", "the time comes from SOURCE_DATE_EPOCH")

        # Python's tarfile reads the same entries, with the manifest's sizes and digests
        with tarfile.open(self.bundle) as archive:
            members = archive.getmembers()
            self.assertEqual([m.name for m in members if m.name not in ("manifest.json", "manifest.sig")], sorted(roles))
            self.assertTrue(all(m.isfile() and m.uid == 0 and m.gid == 0 and m.mtime == int(EPOCH) for m in members))
            manifest = json.load(archive.extractfile("manifest.json"))
            for file in manifest["files"]:
                data = archive.extractfile(file["path"]).read()
                self.assertEqual((len(data), hashlib.sha256(data).hexdigest()), (file["size"], file["sha256"]), file["path"])
            self.assertEqual(archive.getmember("bin/deploy").mode, 0o755)
            self.assertEqual(archive.getmember("Stacks/private-inference.json5").mode, 0o644)

        target = os.path.join(self.work, "imported")
        imported = deploy("bundle", "import", self.bundle, "--pubkey", self.key + ".pub", "--to", target)
        self.assertEqual(imported.returncode, 0, imported.stderr)
        self.assertEqual(sha256(os.path.join(target, "Stacks", "artifacts", "model.gguf")), sha256(MODEL))
        self.assertTrue(os.access(os.path.join(target, "bin", "deploy"), os.X_OK))
        validated = deploy("validate", "--stack", os.path.join(target, "Stacks", "private-inference.json5"))
        self.assertEqual(validated.returncode, 0, "the imported stack finds its templates and artifacts: " + validated.stderr)
        again = deploy("bundle", "import", self.bundle, "--pubkey", self.key + ".pub", "--to", target)
        self.assertNotEqual(again.returncode, 0, "import never overwrites a directory")

    def test_sbom_is_cyclonedx_1_5(self):
        with tarfile.open(self.bundle) as archive:
            sbom = json.load(archive.extractfile("sbom.cdx.json"))
        schema = read_json(os.path.join(CYCLONEDX, "bom-1.5.schema.json"))
        registry = referencing.Registry().with_resources([
            ("http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json",
             referencing.Resource.from_contents(read_json(os.path.join(CYCLONEDX, "spdx.schema.json")))),
            ("http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json",
             referencing.Resource.from_contents(read_json(os.path.join(CYCLONEDX, "jsf-0.82.schema.json")))),
        ])
        jsonschema.Draft7Validator(schema, registry=registry).validate(sbom)
        models = [c for c in sbom["components"] if c["type"] == "machine-learning-model"]
        self.assertEqual(len(models), 2, "the stack's model artifact and the --model file")
        properties = {p["name"]: p["value"] for p in models[0]["properties"]}
        self.assertEqual(properties["gguf:architecture"], "llama")
        self.assertEqual(properties["gguf:quantization"], "Q4_0")
        applications = {c["name"]: c.get("version") for c in sbom["components"] if c["type"] == "application"}
        self.assertEqual(set(applications), {"deploy", "inference-server"})

    def test_exports_are_byte_identical(self):
        again = self.export("again.bundle")
        self.assertEqual(sha256(again), sha256(self.bundle))
        later = self.export("later.bundle", epoch="1767225600")
        self.assertNotEqual(sha256(later), sha256(self.bundle), "another time is another archive")

    def test_split_parts_rejoin(self):
        index = self.export("split.bundle", "--split", "1M")
        document = read_json(index)
        self.assertGreater(len(document["parts"]), 3)
        joined = b"".join(read_bytes(os.path.join(self.work, part["name"])) for part in document["parts"])
        self.assertEqual(hashlib.sha256(joined).hexdigest(), sha256(self.bundle), "the parts are the archive, cut")
        self.assertEqual(self.verify(index).returncode, 0)
        target = os.path.join(self.work, "from-parts")
        self.assertEqual(deploy("bundle", "import", index, "--pubkey", self.key + ".pub", "--to", target).returncode, 0)
        self.assertEqual(sha256(os.path.join(target, "models", "llama-q4_0.gguf")), sha256(MODEL))

        second = os.path.join(self.work, document["parts"][1]["name"])
        original = read_bytes(second)
        try:
            with open(second, "r+b") as part:
                part.seek(1000)
                part.write(bytes([original[1000] ^ 1]))
            changed = self.verify(index)
            self.assertEqual(changed.returncode, 1)
            self.assertIn(document["parts"][1]["name"], changed.stderr)
            os.rename(second, second + ".gone")
            missing = self.verify(index)
            self.assertEqual(missing.returncode, 1)
            self.assertIn("cannot read", missing.stderr)
        finally:
            if os.path.exists(second + ".gone"):
                os.rename(second + ".gone", second)
            write_bytes(second, original)

    def test_keygen_never_overwrites(self):
        result = deploy("bundle", "keygen", "--out", self.key)
        self.assertEqual(result.returncode, 2)
        self.assertIn("never overwrites", result.stderr)


def repack(source, destination, change):
    """Copies the archive entry by entry through `change(members)`, which returns (TarInfo, bytes or None) pairs."""
    with tarfile.open(source) as archive:
        members = [(member, archive.extractfile(member).read()) for member in archive.getmembers()]
    with tarfile.open(destination, "w", format=tarfile.PAX_FORMAT) as out:
        for member, data in change(members):
            out.addfile(member, io.BytesIO(data) if data is not None else None)


def special(name, kind, link=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info, None


def entry(name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def flip(data, offset):
    return data[:offset] + bytes([data[offset] ^ 1]) + data[offset + 1:]


def replace(members, name, data):
    return [(m, data if m.name == name else d) for m, d in members]


def before_manifest(members, extra):
    """Entries added where an attacker would hide them: among the files, before the manifest."""
    return [m for m in members if m[0].name not in ("manifest.json", "manifest.sig")] + extra \
        + [m for m in members if m[0].name in ("manifest.json", "manifest.sig")]


# each case: the archive's change, and what the refusal must say
TAMPERS = {
    "changed_file_byte": (lambda ms: replace(ms, "Stacks/artifacts/keys.json", flip(dict((m.name, d) for m, d in ms)["Stacks/artifacts/keys.json"], 3)),
                          "SHA-256 differs from the manifest"),
    "changed_manifest": (lambda ms: replace(ms, "manifest.json", dict((m.name, d) for m, d in ms)["manifest.json"].replace(b'"linux-', b'"Linux-')),
                         "the manifest was changed after it was signed"),
    "bad_signature": (lambda ms: replace(ms, "manifest.sig", dict((m.name, d) for m, d in ms)["manifest.sig"].replace(b'"signature" : "', b'"signature" : "AA')),
                      "signature"),
    "missing_signature": (lambda ms: [m for m in ms if m[0].name != "manifest.sig"], "not signed"),
    "missing_entry": (lambda ms: [m for m in ms if m[0].name != "Templates/keys.json5"], "missing: in the manifest"),
    "extra_entry": (lambda ms: before_manifest(ms, [entry("Stacks/artifacts/extra.bin", b"x")]), "extra: in the archive"),
    "duplicate_entry": (lambda ms: before_manifest(ms, [entry("Stacks/artifacts/keys.json", b"other")]), "a second entry with the same path"),
    "absolute_path": (lambda ms: before_manifest(ms, [entry("/etc/cron.d/evil", b"x")]), "an absolute path"),
    "parent_traversal": (lambda ms: before_manifest(ms, [entry("Stacks/../../evil", b"x")]), "climbs out"),
    "symbolic_link": (lambda ms: before_manifest(ms, [special("Stacks/link", tarfile.SYMTYPE, "/etc/passwd")]), "a symbolic link"),
    "hard_link": (lambda ms: before_manifest(ms, [special("Stacks/hard", tarfile.LNKTYPE, "Stacks/private-inference.json5")]), "a hard link"),
    "device_file": (lambda ms: before_manifest(ms, [special("Stacks/dev", tarfile.CHRTYPE)]), "a device file"),
    "directory_entry": (lambda ms: before_manifest(ms, [special("Stacks/sub", tarfile.DIRTYPE)]), "a directory entry"),
}


class TamperTests(BundleFixture):
    def refused(self, path, phrase):
        result = self.verify(path)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn(phrase, result.stderr)
        target = os.path.join(self.work, "import-" + os.path.basename(path))
        imported = deploy("bundle", "import", path, "--pubkey", self.key + ".pub", "--to", target)
        self.assertEqual(imported.returncode, 1, imported.stderr)
        self.assertFalse(os.path.exists(target), "nothing imported")
        self.assertEqual([n for n in os.listdir(self.work) if ".importing-" in n], [], "no half-imported tree left")

    def test_wrong_key(self):
        other = os.path.join(self.work, "other")
        deploy("bundle", "keygen", "--out", other)
        result = self.verify(self.bundle, key=other)
        self.assertEqual(result.returncode, 1)
        self.assertIn("not by the key given", result.stderr)

    def test_truncated(self):
        for cut in (1500, os.path.getsize(self.bundle) // 2):
            path = os.path.join(self.work, f"truncated-{cut}.bundle")
            data = read_bytes(self.bundle)
            write_bytes(path, data[:len(data) - cut])
            self.refused(path, "truncated")

    def test_header_checksum(self):
        path = os.path.join(self.work, "header.bundle")
        data = bytearray(read_bytes(self.bundle))
        data[10] ^= 1  # the first entry's name
        write_bytes(path, bytes(data))
        self.refused(path, "checksum")

    def test_bytes_after_the_end(self):
        path = os.path.join(self.work, "trailing.bundle")
        write_bytes(path, read_bytes(self.bundle) + b"\x01" + bytes(511))
        self.refused(path, "after the end")


def tamper_test(change, phrase):
    def test(self):
        path = os.path.join(self.work, self._testMethodName + ".bundle")
        repack(self.bundle, path, change)
        self.refused(path, phrase)
    return test


for case, (change, phrase) in TAMPERS.items():
    setattr(TamperTests, f"test_{case}", tamper_test(change, phrase))


if __name__ == "__main__":
    unittest.main()
