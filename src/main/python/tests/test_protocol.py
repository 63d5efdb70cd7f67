"""Offline tests: framing bytes, HMAC proofs, key and address resolution, error mapping."""
import os
import queue
import tempfile
import threading
import unittest
from pathlib import Path
from unittest import mock

from orch import RemoteError, _auth, _framing
from orch.errors import remote_error


class FramingTest(unittest.TestCase):
    def test_ping_frame_bytes_match_protocol_md(self):
        self.assertEqual(_framing.encode({"type": "ping"}).hex(" "),
                         "00 00 00 0f 7b 22 74 79 70 65 22 3a 22 70 69 6e 67 22 7d")

    def test_utf8_length_counts_bytes(self):
        data = _framing.encode({"s": "é"})
        self.assertEqual(int.from_bytes(data[:4], "big"), len(data) - 4)
        self.assertIn("é".encode(), data)

    def test_decoder_is_incremental(self):
        stream = _framing.encode({"a": 1}) + _framing.encode({"b": [2]})
        dec = _framing.FrameDecoder()
        out = []
        for i in range(len(stream)):
            out += dec.feed(stream[i:i + 1])
        self.assertEqual(out, [{"a": 1}, {"b": [2]}])
        self.assertEqual(dec.buffered, 0)

    def test_non_object_and_zero_length_rejected(self):
        with self.assertRaises(_framing.FrameError):
            _framing.FrameDecoder().feed(b"\x00\x00\x00\x02[]")
        with self.assertRaises(_framing.FrameError):
            _framing.FrameDecoder().feed(b"\x00\x00\x00\x00")

    def test_nan_is_not_json(self):
        for bad in ({"x": float("nan")}, [1, {"y": float("-inf")}]):
            with self.assertRaisesRegex(ValueError, "cannot be sent: JSON has no NaN"):
                _framing.encode(bad)

    def test_numbers_json_has_not_are_bad_frames_as_at_the_server(self):
        # PROTOCOL.md §1: the server refuses them; a worker's direct port and a client reading
        # a worker's answer must too, or a number turns into inf on that route alone.
        with self.assertRaisesRegex(_framing.FrameError, r"number -1E\+400 is out of range"):
            _framing.decode_payload(b'{"x":[1,-1E+400]}')
        for token in (b"NaN", b"Infinity", b"-Infinity"):
            with self.assertRaisesRegex(_framing.FrameError, "not a JSON number"):
                _framing.decode_payload(b'{"x":%s}' % token)
        self.assertEqual(_framing.decode_payload(b'{"x":1e-400}'), {"x": 0.0})
        reply = b'{"type":"message","address":"r1","body":{"result":1e400}}'
        (err,) = _framing.FrameDecoder().feed(len(reply).to_bytes(4, "big") + reply)
        self.assertEqual((err["type"], err["address"], err["failureCode"], err["name"]),
                         ("err", "r1", 502, "BadReply"))

    def test_dict_keys_that_become_one_json_key_are_refused(self):
        for bad in ({1: "a", "1": "b"}, [{True: 1, "true": 2}], {"k": {None: 1, "null": 2}},
                    {"a": [{1.5: 0, "1.5": 1}]}):
            with self.assertRaisesRegex(ValueError, "both become the JSON key"):
                _framing.encode_json(bad)
        self.assertEqual(_framing.encode_json({1: 0, "2": 0, None: 0}), b'{"1":0,"2":0,"null":0}')

    def test_lone_surrogates_travel_as_json_escapes(self):
        data = _framing.encode({"s": "a\ud800b", "t": "\udc00"})
        self.assertIn(b'"a\\ud800b"', data)
        self.assertEqual(_framing.decode_payload(data[4:]), {"s": "a\ud800b", "t": "\udc00"})

    def test_answers_quote_any_reply_address_as_json(self):
        # Letters and digits skip the encoder; anything else goes through it, escapes and all.
        for address in ("r12", "é٣", 'a"b', "a\\b", "t\n", "\ud800", ""):
            for encode, kind in ((_framing.encode_message, "message"),
                                 (_framing.encode_reply, "send")):
                data = encode(address, b'{"result":1}')
                self.assertEqual(int.from_bytes(data[:4], "big"), len(data) - 4)
                self.assertEqual(_framing.decode_payload(data[4:]),
                                 {"type": kind, "address": address, "body": {"result": 1}})

    # Strings the quick paths for long strings and call bodies must write as the encoder does:
    # short and long, ASCII and not, with every kind of character JSON escapes.
    _STRINGS = ("", "k", "hello", "x" * (_framing.LONG_STRING - 1), "x" * _framing.LONG_STRING,
                "x" * 5000, "é" * 300, "\U0001f600" * 100, "a\u2028b" * 100,
                'q"' * 100, "b\\" * 100, "t\n" * 100, "\x01" * 200, "\x1f" + "x" * 200,
                "\x7f" * 200, "x" * 200 + "\ud800", "\udc00" * 130)

    def _reference_encoding(self, value):
        import json
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return text.encode("utf-8", "backslashreplace")

    def test_strings_are_written_as_the_json_encoder_writes_them(self):
        for s in self._STRINGS:
            with self.subTest(length=len(s), start=s[:3]):
                self.assertEqual(_framing.encode_json(s), self._reference_encoding(s))
                self.assertEqual(_framing.decode_payload(b'{"s":%s}' % _framing.encode_json(s)),
                                 {"s": s})

    def test_call_bodies_are_written_as_the_json_encoder_writes_them(self):
        long = "x" * 1024
        cases = [("get", (), None), ("get", [], {}), ("setdefault", ("k", long), None),
                 ("echo", [long, 1, None, True, 2.5, [long], {"k": long}], {"timeout": 1}),
                 ("m", (long, long), {"a": long, "b": [1, {"c": "d"}]}), ("__getitem__", (0,), None),
                 ("é", ("é" * 200,), None), ('we"ird\\', ("x",), None)]
        cases += [("put", (s,), None) for s in self._STRINGS]
        for method, args, kwargs in cases:
            with self.subTest(method=method, args=str(args)[:40]):
                body = {"method": method, "args": list(args)}
                if kwargs:
                    body["kwargs"] = kwargs
                encoded = _framing.encode_call(method, args, kwargs)
                self.assertEqual(encoded, self._reference_encoding(body))
                self.assertEqual(_framing.decode_payload(encoded), body)

    def test_call_bodies_refuse_what_the_encoder_refuses(self):
        with self.assertRaisesRegex(ValueError, "cannot be sent: JSON has no NaN"):
            _framing.encode_call("put", ("x" * 500, float("nan")))
        with self.assertRaisesRegex(ValueError, "both become the JSON key"):
            _framing.encode_call("put", ("x" * 500, {1: "a", "1": "b"}))
        with self.assertRaisesRegex(TypeError, "not JSON serializable"):
            _framing.encode_call("put", (object(),))


class ReferenceFramingTest(unittest.TestCase):
    """References (PROTOCOL.md §5): how a proxy is written, and which bodies are looked at."""

    def test_a_proxy_is_written_as_a_reference_only_on_request(self):
        from orch import AutoProxy, UnreachableProxy
        proxy = UnreachableProxy({}, "s1-7", AutoProxy, RuntimeError("unused"))
        body = {"method": "append", "args": [[1, {"k": proxy}, (proxy,)]]}
        with self.assertRaisesRegex(_framing.ProxyValue, "JSON serializable") as cm:
            _framing.encode_json(body)
        self.assertIs(cm.exception.proxy, proxy)
        self.assertEqual(_framing.encode_json_refs(body, lambda p: {"orch.ref": p._id}),
                         b'{"method":"append","args":[[1,{"k":{"orch.ref":"s1-7"}},'
                         b'[{"orch.ref":"s1-7"}]]]}')
        with self.assertRaisesRegex(TypeError, "not JSON serializable"):
            _framing.encode_json_refs({"args": [object()]}, lambda p: {})

    def test_only_bodies_that_mention_orch_ref_are_marked(self):
        def body(payload):
            return _framing.decode_payload(payload)["body"]
        # Answers, calls a worker takes through the server (message) and on its port (send).
        marked = body(b'{"type":"message","address":"r1","body":{"result":[{"orch.ref":"a"}]}}')
        self.assertIs(type(marked), _framing.BodyWithRefs)
        self.assertEqual(marked, {"result": [{"orch.ref": "a"}]})
        call = body(b'{"type":"send","address":"orch.obj.1","replyAddress":"r2",'
                    b'"body":{"method":"m","args":[{"orch.ref":"a"}]}}')
        self.assertIs(type(call), _framing.BodyWithRefs)
        for plain in (b'{"type":"message","address":"r1","body":{"result":[{"ref":"a"}]}}',
                      b'{"type":"message","address":"r1","body":{"result":"\\"orch.ref\\""}}',
                      b'{"type":"send","address":"o","body":{"args":[{"ref":"a"}]}}',
                      b'{"type":"err","address":"r1","message":"\\"orch.ref\\"","body":{}}'):
            self.assertIs(type(body(plain)), dict, plain)


class AuthTest(unittest.TestCase):
    def test_proofs_are_hmac_sha256_over_label_and_nonces(self):
        import hashlib
        import hmac
        key, cn, sn = b"k", b"c" * 32, b"s" * 32
        self.assertEqual(_auth.server_proof(key, cn, sn),
                         hmac.new(key, b"orch-server" + cn + sn, hashlib.sha256).digest())
        self.assertEqual(_auth.client_proof(key, sn, cn),
                         hmac.new(key, b"orch-client" + sn + cn, hashlib.sha256).digest())
        self.assertEqual(_auth.unb64(_auth.b64(cn)), cn)
        self.assertIsNone(_auth.unb64("not base64!"))

    def test_server_handshake_proves_the_key_only_after_the_client(self):
        key, cn = b"k", os.urandom(32)
        h = _auth.ServerHandshake(key)
        reply, error = h.challenge({"op": "challenge", "clientNonce": _auth.b64(cn)})
        self.assertIsNone(error)
        self.assertEqual(set(reply), {"serverNonce", "alg"})  # nothing to guess the key against
        sn = _auth.unb64(reply["serverNonce"])
        self.assertEqual(h.login({"proof": _auth.b64(_auth.client_proof(b"x", sn, cn))}),
                         (None, (401, "wrong auth key")))
        proved, error = h.login({"proof": _auth.b64(_auth.client_proof(key, sn, cn))})
        self.assertIsNone(error)
        self.assertEqual(proved, {"serverProof": _auth.b64(_auth.server_proof(key, cn, sn))})
        self.assertEqual(_auth.ServerHandshake(key).login({"proof": "AAAA"}),
                         (None, (401, "login before challenge")))

    def test_key_resolution_order(self):
        with tempfile.TemporaryDirectory() as d:
            home = Path(d)
            (home / "authkey").write_bytes(b"from-home\n")
            (home / "other").write_bytes(b"from-file\n\n")
            env = {"ORCH_HOME": d}
            with mock.patch.dict(os.environ, env, clear=True):
                self.assertEqual(_auth.resolve_authkey(None), b"from-home")
                self.assertEqual(_auth.resolve_authkey("arg"), b"arg")
                os.environ["ORCH_AUTHKEY_FILE"] = str(home / "other")
                # only one trailing newline is stripped
                self.assertEqual(_auth.resolve_authkey(None), b"from-file\n")
                os.environ["ORCH_AUTHKEY"] = "from-env-é"
                self.assertEqual(_auth.resolve_authkey(None), "from-env-é".encode())
            with mock.patch.dict(os.environ, {"ORCH_HOME": str(home / "none")}, clear=True):
                with self.assertRaises(FileNotFoundError):
                    _auth.resolve_authkey(None)

    def test_key_file_loses_one_lf_or_crlf_like_authkeys_read(self):
        cases = {b"k": b"k", b"k\n": b"k", b"k\r\n": b"k", b"k\n\n": b"k\n",
                 b"k\r\n\r\n": b"k\r\n", b"k\r\r\n": b"k\r", b"k\r": b"k\r", b"\n\r\n": b"\n"}
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "key"
            for data, key in cases.items():
                with self.subTest(data=data):
                    path.write_bytes(data)
                    self.assertEqual(_auth.read_key_file(path), key)
            for data in (b"", b"\n", b"\r\n"):
                with self.subTest(data=data):
                    path.write_bytes(data)
                    with self.assertRaises(OSError) as cm:
                        _auth.read_key_file(str(path))
                    self.assertEqual(str(cm.exception), "auth key file %s is empty" % path)
            path.write_bytes(b"k" * _auth.MAX_KEY_BYTES)
            self.assertEqual(len(_auth.read_key_file(path)), _auth.MAX_KEY_BYTES)
            for big in (str(path), "/dev/zero"):
                if big == str(path):
                    path.write_bytes(b"k" * (_auth.MAX_KEY_BYTES + 1))
                elif not os.access(big, os.R_OK):
                    continue
                with self.subTest(file=big):
                    with self.assertRaises(OSError) as cm:
                        _auth.read_key_file(big)
                    self.assertEqual(str(cm.exception),
                                     "auth key file %s is larger than 65536 bytes: not a key file" % big)

    def test_empty_variables_count_as_unset_like_the_cli(self):
        with tempfile.TemporaryDirectory() as d:
            home = Path(d)
            (home / "authkey").write_bytes(b"from-home\n")
            (home / "other").write_bytes(b"from-file\r\n")
            env = {"ORCH_HOME": d, "ORCH_AUTHKEY": "", "ORCH_AUTHKEY_FILE": str(home / "other")}
            with mock.patch.dict(os.environ, env, clear=True):
                self.assertEqual(_auth.resolve_authkey(None), b"from-file")
                os.environ["ORCH_AUTHKEY_FILE"] = ""
                self.assertEqual(_auth.resolve_authkey(None), b"from-home")
            # A blank ORCH_HOME is ~/.orch, as AuthKeys.home() has it.
            with mock.patch.dict(os.environ, {"ORCH_HOME": " ", "HOME": d}, clear=True):
                self.assertEqual(_auth.orch_home(), home / ".orch")

    def test_default_key_path_that_is_not_a_file_is_reported(self):
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "authkey").mkdir()
            with mock.patch.dict(os.environ, {"ORCH_HOME": d}, clear=True):
                # The CLI says "cannot read auth key file …/authkey: Is a directory".
                with self.assertRaises(IsADirectoryError):
                    _auth.resolve_authkey(None)

    def test_authkey_argument_must_be_bytes_bytearray_or_str(self):
        self.assertEqual(_auth.resolve_authkey(bytearray(b"ba")), b"ba")
        self.assertEqual(_auth.resolve_authkey("é"), "é".encode())
        with self.assertRaises(TypeError):
            _auth.resolve_authkey(5)  # type: ignore[arg-type]
        with self.assertRaises(ValueError):
            _auth.resolve_authkey(b"")

    def test_address_resolution(self):
        with mock.patch.dict(os.environ, {}, clear=True):
            self.assertEqual(_auth.resolve_address(None), ("127.0.0.1", 55555))
            os.environ["ORCH_ADDRESS"] = "example.org:1234"
            self.assertEqual(_auth.resolve_address(None), ("example.org", 1234))
        self.assertEqual(_auth.resolve_address("[::1]:9"), ("::1", 9))
        self.assertEqual(_auth.resolve_address(("h", "7")), ("h", 7))
        with self.assertRaises(ValueError):
            _auth.resolve_address("nonsense")


class ErrorMappingTest(unittest.TestCase):
    def test_python_names_map_to_python_classes(self):
        cases = {"KeyError": KeyError, "IndexError": IndexError, "ValueError": ValueError,
                 "TypeError": TypeError, "AttributeError": AttributeError,
                 "RuntimeError": RuntimeError, "Empty": queue.Empty, "Full": queue.Full,
                 "BrokenBarrierError": threading.BrokenBarrierError}
        for name, cls in cases.items():
            e = remote_error(500, name, f"{name}: detail")
            self.assertIsInstance(e, cls)
            self.assertIsInstance(e, RemoteError)
            self.assertEqual((e.code, e.name), (500, name))

    def test_mapped_errors_pickle(self):
        # A ProcessPoolExecutor task that hits one sends it back pickled.
        import pickle
        from orch import errors
        for name in errors._PYTHON_ERRORS:
            e = remote_error(500, name, f"{name}: 'detail'")
            for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
                with self.subTest(name=name, protocol=protocol):
                    back = pickle.loads(pickle.dumps(e, protocol))
                    self.assertIs(type(back), type(e))
                    self.assertEqual(back.args, e.args)
                    self.assertEqual((back.code, back.name, back.message, back.detail),
                                     (e.code, e.name, e.message, e.detail))
                    self.assertEqual(str(back), str(e))
        e = remote_error(404, "NotFound", "NotFound: no object named 'x'")
        back = pickle.loads(pickle.dumps(e))
        self.assertEqual((type(back), back.code, back.name, back.detail, str(back)),
                         (RemoteError, 404, "NotFound", e.detail, str(e)))

    def test_key_error_carries_the_key(self):
        e = remote_error(500, "KeyError", "KeyError: 'x'")
        self.assertEqual(e.args, ("x",))

    def test_other_codes_are_remote_errors(self):
        e = remote_error(404, "NotFound", "NotFound: no object named 'x'")
        self.assertIs(type(e), RemoteError)
        self.assertEqual((e.code, e.name, e.detail), (404, "NotFound", "no object named 'x'"))
        e = remote_error(500, "SomethingOdd", "SomethingOdd: ?")
        self.assertIs(type(e), RemoteError)


if __name__ == "__main__":
    unittest.main()
