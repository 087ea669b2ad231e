package keycard

// The JSON text of a Request's Context, written without reflection for the values a context
// holds (strings, bools, numbers, nil, lists and maps of them): encoding/json's reflection and
// key sorting cost more than the decision itself. Other values go through encoding/json. Text
// that is not UTF-8 is refused (encoding/json would replace it with U+FFFD).

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

func appendJSONString(buf []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return buf, &Error{Code: CodeUTF8, Message: "context: " + strconv.Quote(s) + " is not valid UTF-8"}
	}
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			buf = append(buf, '\\', c)
		case c < 0x20:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			buf = append(buf, c)
		}
	}
	return append(buf, '"'), nil
}

func appendJSON(buf []byte, v any) ([]byte, error) {
	var err error
	switch v := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case string:
		return appendJSONString(buf, v)
	case bool:
		return strconv.AppendBool(buf, v), nil
	case int:
		return strconv.AppendInt(buf, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(buf, v, 10), nil
	case float64:
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			return strconv.AppendFloat(buf, v, 'g', -1, 64), nil
		}
	case []string:
		buf = append(buf, '[')
		for i, s := range v {
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, err = appendJSONString(buf, s); err != nil {
				return buf, err
			}
		}
		return append(buf, ']'), nil
	case []any:
		buf = append(buf, '[')
		for i, x := range v {
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, err = appendJSON(buf, x); err != nil {
				return buf, err
			}
		}
		return append(buf, ']'), nil
	case map[string]any:
		buf = append(buf, '{')
		first := true
		for k, x := range v {
			if !first {
				buf = append(buf, ',')
			}
			first = false
			if buf, err = appendJSONString(buf, k); err != nil {
				return buf, err
			}
			buf = append(buf, ':')
			if buf, err = appendJSON(buf, x); err != nil {
				return buf, err
			}
		}
		return append(buf, '}'), nil
	}
	out, err := json.Marshal(v)
	if err != nil {
		return buf, &Error{Code: CodeRequest, Message: "context: " + err.Error()}
	}
	return append(buf, out...), nil
}
