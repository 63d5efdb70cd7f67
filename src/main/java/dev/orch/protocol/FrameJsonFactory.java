package dev.orch.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.ObjectCodec;
import com.fasterxml.jackson.core.io.IOContext;
import com.fasterxml.jackson.core.json.UTF8StreamJsonParser;
import com.fasterxml.jackson.core.sym.ByteQuadsCanonicalizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Jackson's factory, whose parsers of a byte array read a string that is plain ASCII (no escape,
 * control or non-ASCII byte) as a block ({@link PlainAscii}): Jackson copies a string's bytes one
 * by one into chars, then those into a String, an eighth of the server's event loop in JFR for a
 * call with a 1 KiB argument (a frame with one: 1.2 → 0.8 µs to decode, by microbenchmark).
 * Everything else, and every error, is Jackson's own.
 */
final class FrameJsonFactory extends JsonFactory {
    private static final long serialVersionUID = 1L;

    FrameJsonFactory(JsonFactoryBuilder builder) {
        super(builder);
    }

    @Override
    protected JsonParser _createParser(byte[] data, int offset, int len, IOContext ctxt) throws IOException {
        // The parser Jackson's bootstrapper would make: a first byte '{' and a second that is not
        // 0 leave no byte-order mark, UTF-16 or UTF-32 to detect, so the bytes are UTF-8 from the
        // start. Anything else (whitespace first, say) gets the bootstrapper, and no fast strings.
        if (len >= 2 && data[offset] == '{' && data[offset + 1] != 0
                && Feature.CANONICALIZE_FIELD_NAMES.enabledIn(_factoryFeatures)) {
            _streamReadConstraints.validateDocumentLength(len);
            return new PlainStringParser(ctxt, _parserFeatures, _objectCodec,
                    _byteSymbolCanonicalizer.makeChild(_factoryFeatures), data, offset, offset + len);
        }
        return super._createParser(data, offset, len, ctxt);
    }

    /** Jackson's parser of UTF-8 bytes held whole in one array, with plain strings read as a block. */
    static final class PlainStringParser extends UTF8StreamJsonParser {
        PlainStringParser(IOContext ctxt, int features, ObjectCodec codec, ByteQuadsCanonicalizer symbols,
                byte[] data, int start, int end) {
            super(ctxt, features, null, codec, symbols, data, start, end, 0, false);
        }

        @Override
        public String getText() throws IOException {
            if (_tokenIncomplete && _currToken == JsonToken.VALUE_STRING) {
                // The string has not been read yet, and its bytes start at the pointer.
                int start = _inputPtr;
                int quote = PlainAscii.end(_inputBuffer, start, _inputEnd, false);
                // Past the length limit, Jackson's own reading raises its own error.
                if (quote < _inputEnd && _inputBuffer[quote] == '"'
                        && quote - start <= _streamReadConstraints.getMaxStringLength()) {
                    String s = new String(_inputBuffer, start, quote - start, StandardCharsets.ISO_8859_1);
                    // The text buffer holds the token as Jackson's reading leaves it, for the
                    // parser's other accessors.
                    _textBuffer.resetWithString(s);
                    _inputPtr = quote + 1;
                    _tokenIncomplete = false;
                    return s;
                }
            }
            return super.getText();
        }
    }
}
