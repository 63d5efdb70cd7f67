"""Length-prefixed JSON frames (PROTOCOL.md §1).

A frame is a 4-byte big-endian payload length followed by that many bytes of UTF-8 JSON holding
one object. This module knows nothing about sockets, so it can be tested byte for byte.
"""
from __future__ import annotations

import json
import re
import struct
from collections.abc import Mapping, Set as AbstractSet, ValuesView
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

Buffer = Union[bytes, bytearray, memoryview]

#: How deep a frame may nest objects and arrays, itself included (PROTOCOL.md §1). The server
#: refuses deeper frames, so whatever it sends decodes here (Python's decoder recurses, within
#: the interpreter's recursion limit of 1,000 shared with the caller's own stack).
MAX_DEPTH = 256

_HEADER = struct.Struct(">I")
HEADER_SIZE = _HEADER.size
_pack_header = _HEADER.pack
_unpack_header = _HEADER.unpack_from


#: The member that makes a JSON object a reference to a shared object (PROTOCOL.md §5).
REF_KEY = "orch.ref"


class ProxyValue(TypeError):
    """A proxy met while encoding a value as plain JSON. A method call or a ``create`` catches
    it and encodes the value again with :func:`encode_json_refs`, so plain values never pay for
    references; anywhere else it is the caller's error. Its message contains "JSON
    serializable", as every encoding failure's does (hosting relies on that)."""

    def __init__(self, proxy: Any) -> None:
        super().__init__(
            "Object of type %s is not JSON serializable here: a proxy goes, as a reference to "
            "its object, only in the arguments of a method call or of Manager.create() (send "
            "the object's name elsewhere and use Manager.lookup(name))" % type(proxy).__name__)
        self.proxy = proxy


def _is_proxy(value: Any) -> bool:
    from .proxy import BaseProxy, UnreachableProxy  # proxy imports this module
    return isinstance(value, (BaseProxy, UnreachableProxy))


def _default(value: Any) -> Any:
    """The encoder's hook for values JSON has no type for, called only for those (never on the
    path of plain JSON values). What maps onto JSON without ambiguity is converted, as
    multiprocessing's manager would pickle it: ``range``, ``set``, ``frozenset`` and the other
    sets, dict views among them (``d.keys()``, ``d.items()``, ``d.values()``), become arrays
    (a set's order is its iteration order), any other ``collections.abc.Mapping`` an
    object (its keys as for a dict: str, int, float, bool or None). A proxy raises
    :class:`ProxyValue`; anything else ``TypeError``. Both messages contain "JSON
    serializable" (hosting relies on that)."""
    if isinstance(value, (range, AbstractSet, ValuesView)):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    if _is_proxy(value):
        raise ProxyValue(value)
    raise TypeError("Object of type %s is not JSON serializable: orch sends values as JSON "
                    "(str, int, float, bool, None, list, tuple, dict; also set, frozenset, "
                    "range, Mapping)" % type(value).__name__)


# One encoder and decoder for the process: json.dumps with options builds a JSONEncoder per
# call, and JSONEncoder.encode a C encoder per call, which cost more than a small frame.
# allow_nan=False: NaN/Infinity are not JSON and the server would reject the frame.
_TOO_DEEP = ("value nests too deeply to send (a frame takes %d levels of lists and dicts) or "
             "contains itself" % MAX_DEPTH)


class _OutOfRange(ValueError):
    """A number token beyond a double's range: the server refuses such a frame with this
    message (PROTOCOL.md §1), so a direct peer's frame is refused the same way."""


def _finite_float(text: str) -> float:
    value = float(text)
    if value - value:  # only for ±inf: float() of a JSON number token is never NaN
        raise _OutOfRange("number %s is out of range (a double is at most about 1.8e308)" % text)
    return value


def _no_constant(name: str) -> Any:
    raise ValueError("%s is not a JSON number" % name)


# What the encoder below writes a str with (ensure_ascii=False), the C function when there is one.
_encode_string = json.encoder.encode_basestring
_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                            default=_default)
# The hooks run only for float tokens and NaN/Infinity, never for strings, ints or structure.
_decoder = json.JSONDecoder(parse_float=_finite_float, parse_constant=_no_constant)
try:
    from json.encoder import c_make_encoder as _c_make_encoder
    from json.scanner import c_make_scanner as _c_make_scanner
except ImportError:  # an interpreter without the _json accelerator
    _c_make_encoder = _c_make_scanner = None

if _c_make_encoder is not None:
    # markers=None: no per-call bookkeeping for cycles; a cycle ends in RecursionError instead,
    # reported as JSONEncoder reports it.
    _c_encode = _c_make_encoder(None, _encoder.default, json.encoder.encode_basestring, None,
                                ":", ",", False, False, False)

    def _encode_text(value: Any) -> str:
        return "".join(_c_encode(value, 0))

    def _encoder_with(default: Callable[[Any], Any]) -> Callable[[Any], str]:
        c_encode = _c_make_encoder(None, default, json.encoder.encode_basestring, None,
                                   ":", ",", False, False, False)
        return lambda value: "".join(c_encode(value, 0))
else:
    _encode_text = _encoder.encode

    def _encoder_with(default: Callable[[Any], Any]) -> Callable[[Any], str]:
        return json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                                default=default).encode

#: What an int, float, bool or None dict key looks like once the encoder has made it a string
#: (a superset: str keys such as "1" or "null" match too). The encoder converts such keys
#: without a word, so {1: "a", "1": "b"} would lose an entry; a frame without a match has no
#: such key at all, and only one with a match pays for the walk of _check_keys.
_MAYBE_CONVERTED_KEY = re.compile(r'"[-0-9tfn][-+.0-9eEaslru]*":').search


def _dumps(value: Any, encode: Callable[[Any], str] = _encode_text) -> str:
    try:
        text = encode(value)
    except RecursionError:
        raise ValueError(_TOO_DEEP) from None
    except ValueError as e:
        if "Out of range float" not in str(e):
            raise
        raise ValueError(_not_finite_message(value)) from None
    # A scalar (a hosted method's usual result) holds no dict: its text, 1 KiB say, is not
    # searched (about 0.6 µs a KiB).
    # Nor is a text without '":', which every converted key ends with (most call arguments).
    if (type(value) not in _SCALAR_TYPES and '":' in text
            and _MAYBE_CONVERTED_KEY(text) is not None):
        _check_keys(value)
    return text


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (UTF-8 has none) can only be inside a JSON string here: written as
        # its escape \udXXX it is valid JSON, which the server and other clients take back.
        return text.encode("utf-8", "backslashreplace")


def _walk(value: Any) -> Any:
    """Every scalar and Mapping inside ``value`` (itself included), each container once: on
    the NaN error path, where ``value`` may also hold a cycle the encoder did not reach."""
    stack = [value]
    visited = set()
    while stack:
        item = stack.pop()
        if isinstance(item, (str, int, float)) or item is None:
            yield item
            continue
        if id(item) in visited:
            continue
        visited.add(id(item))
        if isinstance(item, Mapping):
            yield item
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, range, AbstractSet, ValuesView)):
            stack.extend(item)


def _key_text(key: Any) -> Any:
    """``key`` as the encoder writes it in an object (None for a key it would refuse)."""
    if isinstance(key, str):
        return key
    if key is True or key is False or key is None:
        return json.dumps(key)
    if isinstance(key, float):
        return float.__repr__(key)
    if isinstance(key, int):
        return int.__repr__(key)
    return None


_SCALARS = (str, int, float, type(None))  # bool is an int


def _check_keys(value: Any) -> None:
    """Raises ValueError when a dict in ``value`` has two keys that become one JSON key. Only
    a dict whose keys are of more than one type can: keys of one type stay distinct as text (1
    and 1.0, or True and 1, are one key in Python already)."""
    stack = [value]
    visited = set()
    while stack:
        item = stack.pop()
        if isinstance(item, _SCALARS) or id(item) in visited:
            continue
        visited.add(id(item))
        if isinstance(item, Mapping):
            if len(set(map(type, item))) > 1:
                _check_dict(item)
            children: Any = item.values()
        elif isinstance(item, (list, tuple, AbstractSet, ValuesView)):
            children = item
        else:
            continue
        if not _SCALAR_TYPES.issuperset(map(type, children)):
            stack.extend(children)


_SCALAR_TYPES = frozenset((str, int, float, bool, type(None)))


def _check_dict(item: Mapping) -> None:
    seen: Dict[Any, Any] = {}
    for key in item:
        text = _key_text(key)
        if text in seen:
            raise ValueError(
                "dict keys %r and %r both become the JSON key %s, so one entry would be lost: "
                "JSON object keys are strings; make the keys distinct strings"
                % (seen[text], key, json.dumps(text, ensure_ascii=False)))
        seen[text] = key


def _not_finite_message(value: Any) -> str:
    found = "NaN or infinity"
    for item in _walk(value):
        keys = item.keys() if isinstance(item, Mapping) else (item,)
        bad = [x for x in keys if isinstance(x, float) and x - x != 0]
        if bad:
            found = repr(bad[0])
            break
    return ("%s cannot be sent: JSON has no NaN or infinite numbers (orch refuses them rather "
            "than send them as strings)" % found)


if _c_make_scanner is not None:
    _scan = _c_make_scanner(_decoder)

    def _loads(text: str) -> Any:
        try:
            value, end = _scan(text, 0)
        except StopIteration:
            return _decoder.decode(text)  # raises the proper error (or skips leading blanks)
        if end != len(text):
            return _decoder.decode(text)  # trailing blanks, or data after the value
        return value
else:
    _loads = _decoder.decode


class FrameError(Exception):
    """The peer sent bytes that are not a valid frame. For a complete frame whose payload could
    not be taken, ``type``, ``address`` and ``reply_address`` hold what its envelope still
    says (None if not): orch's peers write them before the body."""

    def __init__(self, message: str, envelope: Optional[Dict[str, str]] = None) -> None:
        super().__init__(message)
        envelope = envelope or {}
        self.type = envelope.get("type")
        self.address = envelope.get("address")
        self.reply_address = envelope.get("replyAddress")


_ENVELOPE_FIELD = re.compile(r'"(type|address|replyAddress)"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _envelope(text: str) -> Dict[str, str]:
    """The envelope's string fields, read before ``"body"`` (only on the error path)."""
    head = text[:text.find('"body"')] if '"body"' in text else text[:4096]
    fields: Dict[str, str] = {}
    for name, raw in _ENVELOPE_FIELD.findall(head):
        try:
            fields.setdefault(name, json.loads('"%s"' % raw))
        except ValueError:
            pass
    return fields


def encode(frame: Dict[str, Any]) -> bytes:
    """Encodes one frame. Raises ``TypeError``/``ValueError`` if the frame is not strict JSON."""
    text = _dumps(frame)
    try:
        payload = text.encode("utf-8")
    except UnicodeEncodeError:
        payload = _utf8(text)
    return _pack_header(len(payload)) + payload


#: Strings of at least this many characters are written without the JSON codec's loop over
#: their characters when they need no escaping; below it the codec is as quick.
LONG_STRING = 256

# Maps each byte a JSON string must escape (the controls below 0x20, the backslash) to the
# quote, which it must escape too, and every other byte to itself: one translate and one search
# of the result tell whether a string's UTF-8 can go between quotes as it is. UTF-8 repeats no
# ASCII byte inside a multi-byte character, so the test holds for any text.
_ESCAPED_AS_QUOTE = bytes.maketrans(bytes(range(0x20)) + b"\\", b'"' * 0x21)


def _plain_string(text: str) -> Optional[bytes]:
    """``text`` as a JSON string in UTF-8, byte for byte what the codec writes, when it needs no
    escaping; else None. For a KiB, half the codec's time (about 1 µs less here)."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which the codec writes escaped
        return None
    if b'"' in data.translate(_ESCAPED_AS_QUOTE):
        return None
    return b'"%s"' % data


def encode_json(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON; raises ``TypeError``/``ValueError`` if not strict JSON."""
    if type(value) is str:  # a usual result: the string codec alone, as the encoder calls it
        if len(value) >= LONG_STRING:
            quoted = _plain_string(value)
            if quoted is not None:
                return quoted
        text = _encode_string(value)
    else:
        text = _dumps(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _utf8(text)


# The start of a call's body for each method name seen: names are few, and writing one costs
# more than the rest of a small call's body. Bounded, as names come from the program.
_CALL_HEADS: Dict[str, bytes] = {}


def encode_call(method: str, args: Sequence[Any],
                kwargs: Optional[Mapping[str, Any]] = None) -> bytes:
    """The body of a method call, ``{"method":…,"args":[…],"kwargs":{…}}`` (PROTOCOL.md §5),
    byte for byte what :func:`encode_json` writes for it (``kwargs`` only when not empty), in
    less time: the head is kept per method name and a long string argument is quoted as it is.
    Raises as :func:`encode_json` does (:class:`ProxyValue` for a proxy in the arguments)."""
    head = _CALL_HEADS.get(method) if type(method) is str else None
    if head is None:
        head = b'{"method":%s,"args":' % encode_json(method)
        if type(method) is str and len(_CALL_HEADS) < 4096:
            _CALL_HEADS[method] = head
    if not args:
        args_json = b"[]"
    else:
        for arg in args:
            if type(arg) is str and len(arg) >= LONG_STRING:
                args_json = b"[%s]" % b",".join([encode_json(item) for item in args])
                break
        else:
            args_json = encode_json(args)
    if kwargs:
        return b'%s%s,"kwargs":%s}' % (head, args_json, encode_json(kwargs))
    return b"%s%s}" % (head, args_json)


def encode_json_refs(value: Any, ref: Callable[[Any], Dict[str, str]]) -> bytes:
    """``value`` as :func:`encode_json` gives it, each proxy in it (at any depth) written as
    ``ref(proxy)``, its reference ``{"orch.ref": ID}`` (PROTOCOL.md §5); ``ref`` raises for a
    proxy that cannot go. Only for values that hold a proxy: it makes an encoder per call."""

    def default(item: Any) -> Any:
        if _is_proxy(item):
            return ref(item)
        return _default(item)

    return _utf8(_dumps(value, _encoder_with(default)))


def replace_refs(containers: List[Any], make: Callable[[Dict[str, Any]], Any]) -> None:
    """Replaces, in place, each reference (a dict holding ``"orch.ref"``, PROTOCOL.md §5) at
    any depth inside the dicts and lists ``containers`` with ``make(reference)``."""
    stack = list(containers)
    while stack:
        container = stack.pop()
        # Replacing a dict's value while iterating over it is allowed: its size stays.
        for key, item in (container.items() if type(container) is dict
                          else enumerate(container)):
            kind = type(item)
            if kind is dict:
                if REF_KEY in item:
                    container[key] = make(item)
                else:
                    stack.append(item)
            elif kind is list:
                stack.append(item)


class BodyWithRefs(dict):
    """The body of a ``message`` or ``send`` frame whose text holds ``"orch.ref"``, which may
    carry references to shared objects (PROTOCOL.md §5): a dict like any other, whose type
    tells a proxy (an answer) or a hosting worker (a call, §7) to look for them. Any other
    frame's body is a plain dict, never walked."""

    __slots__ = ()


def send_prefix(address: str) -> bytes:
    """The start of a ``send`` frame's payload to ``address``, to pass to :func:`encode_send`.

    A proxy makes it once: per call only the reply address and the body are encoded.
    """
    return _utf8('{"type":"send","address":%s,' % _dumps(address))


def encode_send(prefix: bytes, reply_address: str, body_json: bytes) -> bytes:
    """A whole ``send`` frame from :func:`send_prefix`, a plain reply address ([A-Za-z0-9.]
    only, so it needs no escaping) and the already encoded body."""
    payload = b"".join((prefix, b'"replyAddress":"', reply_address.encode("ascii"),
                        b'","body":', body_json, b"}"))
    return _pack_header(len(payload)) + payload


def _quoted(address: str) -> bytes:
    """``address`` as a JSON string, in UTF-8. Reply addresses are letters and digits (orch's
    clients send ``r`` and a number), which need no escaping: the encoder is skipped for them."""
    if address.isalnum():
        return b'"%s"' % address.encode("utf-8")
    return _utf8(_dumps(address))


def encode_reply(address: str, body_json: bytes) -> bytes:
    """A ``send`` frame without ``replyAddress``: a worker's answer to a request."""
    payload = b"".join((b'{"type":"send","address":', _quoted(address),
                        b',"body":', body_json, b"}"))
    return _pack_header(len(payload)) + payload


def encode_message(address: str, body_json: bytes) -> bytes:
    """A ``message`` frame to ``address`` with an already encoded body: a worker's answer on a
    direct connection, where it speaks as the server does."""
    payload = b"".join((b'{"type":"message","address":', _quoted(address),
                        b',"body":', body_json, b"}"))
    return _pack_header(len(payload)) + payload


def decode_payload(payload: Buffer, refs: bool = True) -> Dict[str, Any]:
    """Parses one payload (any bytes-like object); it must be a JSON object. ``refs``: whether
    a body may carry references for the reader (see :class:`BodyWithRefs`)."""
    try:
        text = str(payload, "utf-8")  # str(): payload may be a memoryview
    except ValueError as e:  # UnicodeDecodeError
        raise FrameError(f"frame is not valid UTF-8: {e}",
                         _envelope(str(payload, "utf-8", "replace"))) from None
    try:
        value = _loads(text)
    except _OutOfRange as e:
        raise FrameError(str(e), _envelope(text)) from None
    except ValueError as e:
        raise FrameError(f"frame is not valid JSON: {e}", _envelope(text)) from None
    except RecursionError:
        # Deeper than this thread's stack leaves room for: this frame fails, not the connection.
        raise FrameError("frame nests too deeply to decode here", _envelope(text)) from None
    if not isinstance(value, dict):
        raise FrameError("frame is not a JSON object")
    # A search of the text costs a fraction of its decoding; the walk for references is left
    # to the few bodies that may hold one: answers, and the calls a worker takes (a "message"
    # through the server, a "send" on its direct port).
    if refs and '"orch.ref"' in text and value.get("type") in ("message", "send"):
        body = value.get("body")
        if type(body) is dict:
            value["body"] = BodyWithRefs(body)
    return value


class FrameDecoder:
    """Incremental decoder: feed it bytes as they arrive, take complete frames out."""

    def __init__(self, refs: bool = True) -> None:
        self._buf = bytearray()
        self._refs = refs  # see decode_payload

    def feed(self, data: Buffer) -> List[Dict[str, Any]]:
        """Adds ``data`` (any bytes-like object; not kept) and returns every frame now complete,
        in order."""
        buf = self._buf
        if buf:
            buf += data
            src: Buffer = buf
        else:
            src = data  # the common case: frames straight from ``data``, no copy through buf
        frames = []
        pos = 0
        n = len(src)
        while n - pos >= HEADER_SIZE:
            (length,) = _unpack_header(src, pos)
            if length == 0:
                raise FrameError("zero-length frame")
            end = pos + HEADER_SIZE + length
            if end > n:
                break
            try:
                frames.append(decode_payload(src[pos + HEADER_SIZE:end], self._refs))
            except FrameError as e:
                if e.type not in ("message", "err") or not e.address:
                    raise
                # A reply that cannot be taken fails its own call; the stream is intact.
                frames.append({"type": "err", "address": e.address, "failureCode": 502,
                               "name": "BadReply",
                               "message": "BadReply: the answer could not be read: %s" % e})
            pos = end
        if src is buf:
            if pos:
                del buf[:pos]
        elif pos < n:
            buf += src[pos:]
        return frames

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buf)

    @property
    def next_length(self) -> Optional[int]:
        """The payload length the next frame's header announces, once its header is in."""
        buf = self._buf
        return _unpack_header(buf, 0)[0] if len(buf) >= HEADER_SIZE else None
