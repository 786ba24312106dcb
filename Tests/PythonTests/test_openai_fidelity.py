"""OpenAI fidelity through the official client against the debug inference-server on a random-weight fixture model:
logprobs and top_logprobs (chat and completions, whole and streamed), logit_bias, JSON mode and JSON schema by
constrained decoding (every output that ends with finish_reason "stop" parses, and validates with jsonschema), a 400
naming each unsupported parameter, and llama-server's /tokenize and /detokenize.

The model's weights are random, so its text is gibberish: left alone it would almost never write JSON, which is
what makes the constraint testable. A bias towards the end-of-sequence token and the closing brackets (found
through /detokenize) makes most constrained runs finish within the token limit; the grammar alone decides what is
valid, the bias only what is likely.

python3 -m unittest Tests/PythonTests/test_openai_fidelity.py -v
"""
import hashlib
import json
import os
import sys
import threading
import time
import unittest

import httpx
import jsonschema
import openai

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_openai_client import Server  # noqa: E402

MESSAGES = [{"role": "user", "content": "Describe a llama as JSON."}]

SCHEMAS = [
    {"type": "object", "properties": {"name": {"type": "string", "maxLength": 20}, "age": {"type": "integer"},
                                      "tags": {"type": "array", "items": {"enum": ["a", "b", 3]}, "maxItems": 3}},
     "required": ["name", "age"], "additionalProperties": False},
    {"type": "array", "items": {"anyOf": [{"type": "number"}, {"type": "boolean"}, {"type": "null"}]}, "minItems": 1, "maxItems": 4},
    {"$ref": "#/$defs/node", "$defs": {"node": {"type": "object", "properties": {
        "value": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 2}},
        "required": ["value"], "additionalProperties": False}}},
    {"oneOf": [{"type": "object", "properties": {"kind": {"const": "point"}, "x": {"type": "number"}, "y": {"type": "number"}},
                "required": ["kind", "x", "y"], "additionalProperties": False},
               {"type": "object", "properties": {"kind": {"const": "label"}, "text": {"type": ["string", "null"], "maxLength": 8}},
                "required": ["kind", "text"], "additionalProperties": False}]},
]


class FidelityTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.client = cls.server.client()
        cls.http = httpx.Client(base_url=cls.server.base, headers={"Authorization": f"Bearer {cls.server.key}"}, timeout=30)
        cls.size = 1024
        pieces = [cls.http.post("/detokenize", json={"tokens": [i]}).json()["content"] for i in range(cls.size)]
        cls.pieces = pieces
        cls.ids = {}
        for index, piece in enumerate(pieces):
            cls.ids.setdefault(piece, index)
        cls.closing = {str(cls.ids[text]): 6 for text in ("}", "]", "\"", "</s>")}

    @classmethod
    def tearDownClass(cls):
        cls.http.close()
        assert cls.server.stop() == 0

    # logprobs

    def check_chat_logprobs(self, entries, content, top):
        self.assertEqual(b"".join(bytes(entry.bytes) for entry in entries).decode(errors="replace"), content, "the tokens' bytes make the text")
        for entry in entries:
            self.assertLessEqual(entry.logprob, 0)
            self.assertEqual(len(entry.top_logprobs), top)
            values = [alternative.logprob for alternative in entry.top_logprobs]
            self.assertEqual(values, sorted(values, reverse=True))
            self.assertTrue(all(value <= 0 for value in values))
            if top and entry.logprob >= values[-1]:
                self.assertIn((entry.token, round(entry.logprob, 4)),
                              [(alternative.token, round(alternative.logprob, 4)) for alternative in entry.top_logprobs],
                              "the chosen token is among its top list when it is that likely")

    def test_chat_logprobs_whole_and_streamed(self):
        ask = dict(model="qwen2-test", messages=MESSAGES, max_tokens=10, temperature=1.0, seed=5, logprobs=True, top_logprobs=4)
        reply = self.client.chat.completions.create(**ask)
        entries = reply.choices[0].logprobs.content
        self.assertEqual(len(entries), reply.usage.completion_tokens)
        self.check_chat_logprobs(entries, reply.choices[0].message.content, 4)
        chunks = list(self.client.chat.completions.create(stream=True, **ask))
        streamed = [entry for chunk in chunks if chunk.choices and chunk.choices[0].logprobs
                    for entry in chunk.choices[0].logprobs.content]
        self.assertEqual([(e.token, e.logprob) for e in streamed], [(e.token, e.logprob) for e in entries], "streamed as whole")
        greedy = self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, max_tokens=6, temperature=0, logprobs=True,
                                                     top_logprobs=3)
        for entry in greedy.choices[0].logprobs.content:
            self.assertEqual(entry.bytes, entry.top_logprobs[0].bytes, "greedy takes the most likely token")
        none = self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, max_tokens=3, logprobs=True)
        self.assertEqual([len(entry.top_logprobs) for entry in none.choices[0].logprobs.content], [0] * len(none.choices[0].logprobs.content))
        plain = self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, max_tokens=3)
        self.assertIsNone(plain.choices[0].logprobs)

    def test_completion_logprobs_whole_and_streamed(self):
        ask = dict(model="qwen2-test", prompt="Once upon a time", max_tokens=10, temperature=1.0, seed=9, logprobs=3)
        reply = self.client.completions.create(**ask)
        logprobs = reply.choices[0].logprobs
        count = reply.usage.completion_tokens
        self.assertEqual([len(logprobs.tokens), len(logprobs.token_logprobs), len(logprobs.top_logprobs), len(logprobs.text_offset)],
                         [count] * 4)
        self.assertTrue(all(value <= 0 for value in logprobs.token_logprobs))
        self.assertTrue(all(1 <= len(top) <= 3 for top in logprobs.top_logprobs))
        self.assertEqual(logprobs.text_offset[0], 0)
        if "\ufffd" not in "".join(logprobs.tokens):
            self.assertEqual("".join(logprobs.tokens), reply.choices[0].text, "the tokens make the text")
        streamed = [token for chunk in self.client.completions.create(stream=True, **ask) if chunk.choices[0].logprobs
                    for token in chunk.choices[0].logprobs.token_logprobs]
        self.assertEqual(streamed, logprobs.token_logprobs)

    # logit_bias

    def test_logit_bias_bans_and_forces(self):
        ask = dict(model="qwen2-test", messages=MESSAGES, max_tokens=8, temperature=0, logprobs=True)
        greedy = self.client.chat.completions.create(**ask).choices[0].logprobs.content
        first = bytes(greedy[0].bytes).decode("utf-8", "replace")
        banned = [index for index in range(self.size)
                  if self.http.post("/detokenize", json={"tokens": [index]}).json()["content"] == first]
        self.assertTrue(banned)
        again = self.client.chat.completions.create(logit_bias={str(index): -100 for index in banned}, **ask).choices[0].logprobs.content
        self.assertNotIn(greedy[0].bytes, [entry.bytes for entry in again], "a banned token never appears")
        forced = self.ids["Q"] if "Q" in self.ids else self.ids["a"]
        text = self.client.completions.create(model="qwen2-test", prompt="Hello", max_tokens=5, temperature=0,
                                              logit_bias={str(forced): 100}).choices[0].text
        self.assertEqual(text, self.http.post("/detokenize", json={"tokens": [forced] * 5}).json()["content"])
        with self.assertRaises(openai.BadRequestError) as caught:
            self.client.completions.create(model="qwen2-test", prompt="Hello", max_tokens=1, logit_bias={"5000": 1})
        self.assertEqual(caught.exception.body["param"], "logit_bias")
        self.assertIn("5000", caught.exception.body["message"])
        for bad in ({"x": 1}, {"3": 101}, {"-1": 2}):
            with self.assertRaises(openai.BadRequestError):
                self.client.completions.create(model="qwen2-test", prompt="Hello", max_tokens=1, logit_bias=bad)

    def only(self, keep):
        """A logit_bias banning every token whose piece is not in `keep` (the fixture's 1,024 fit the cap)."""
        return {str(index): -100 for index, piece in enumerate(self.pieces) if piece not in keep}

    def test_logit_bias_ban_is_never_broken(self):
        # banning the whole vocabulary: a 400 up front, whole or streamed, chat or completions
        everything = {str(index): -100 for index in range(self.size)}
        for stream in (False, True):
            with self.subTest(stream=stream), self.assertRaises(openai.BadRequestError) as caught:
                reply = self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, max_tokens=4, logit_bias=everything,
                                                            stream=stream)
                list(reply) if stream else None
            self.assertEqual(caught.exception.body["param"], "logit_bias")
            self.assertIn("every token", caught.exception.body["message"])
        with self.assertRaises(openai.BadRequestError):
            self.client.completions.create(model="qwen2-test", prompt="Hello", max_tokens=4, logit_bias=everything)
        # more entries than the cap: a 400 naming it
        with self.assertRaises(openai.BadRequestError) as caught:
            self.client.completions.create(model="qwen2-test", prompt="Hello", max_tokens=1,
                                           logit_bias={str(index): -1 for index in range(1025)})
        self.assertIn("1024", caught.exception.body["message"])
        # all but a few letters banned: only those letters come, drawn hot over many seeds
        keep = {"a", "b", "c"}
        for seed in range(4):
            reply = self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, max_tokens=12, temperature=1.5, seed=seed,
                                                        logprobs=True, logit_bias=self.only(keep))
            entries = reply.choices[0].logprobs.content
            self.assertEqual(len(entries), 12, "no end token is left, so it runs to the limit")
            self.assertTrue(all(bytes(entry.bytes).decode() in keep for entry in entries), [entry.token for entry in entries])
        # JSON mode where the bias leaves "{" alone: after it nothing the grammar allows is unbanned, so a 400, not a
        # reply breaking the ban or the format
        opening = self.only({"{"})
        for chat in (True, False):
            with self.subTest(chat=chat), self.assertRaises(openai.BadRequestError) as caught:
                if chat:
                    self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, max_tokens=8, logit_bias=opening,
                                                        response_format={"type": "json_object"})
                else:
                    self.client.completions.create(model="qwen2-test", prompt="JSON:", max_tokens=8, logit_bias=opening,
                                                   extra_body={"response_format": {"type": "json_object"}})
            self.assertEqual(caught.exception.body["code"], "no_token_allowed")
            self.assertEqual(caught.exception.body["param"], "logit_bias")
        # streamed, the 200 has gone out: the stream ends with the error, after only allowed text
        texts = []
        with self.assertRaises(openai.APIError) as caught:
            for chunk in self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, max_tokens=8, logit_bias=opening,
                                                             response_format={"type": "json_object"}, stream=True):
                texts.append(chunk.choices[0].delta.content or "")
        self.assertIn("logit_bias", str(caught.exception))
        self.assertEqual("".join(texts), "{")
        # a JSON document the ban allows still completes
        ok = self.only({"{", "}", "</s>"})
        reply = self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, max_tokens=8, logit_bias=ok,
                                                    response_format={"type": "json_object"})
        self.assertEqual(reply.choices[0].finish_reason, "stop")
        self.assertEqual(json.loads(reply.choices[0].message.content), {})

    # JSON mode and schemas

    def constrained(self, response_format, seeds, **extra):
        finished = 0
        for seed in seeds:
            reply = self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, max_tokens=120, temperature=1.0, seed=seed,
                                                        response_format=response_format, logit_bias=self.closing, **extra)
            choice = reply.choices[0]
            if choice.finish_reason == "stop":
                finished += 1
                yield json.loads(choice.message.content)
            else:
                self.assertEqual(choice.finish_reason, "length")
        self.assertGreater(finished, 0, "some runs finish")

    def test_json_mode_outputs_parse(self):
        for value in self.constrained({"type": "json_object"}, range(6)):
            self.assertIsInstance(value, dict)
        # without the closing bias too: cut by max_tokens it says length, and a finished one parses
        reply = self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, max_tokens=40, seed=1,
                                                    response_format={"type": "json_object"})
        if reply.choices[0].finish_reason == "stop":
            self.assertIsInstance(json.loads(reply.choices[0].message.content), dict)
        else:
            self.assertEqual(reply.choices[0].finish_reason, "length")
            self.assertTrue(reply.choices[0].message.content.lstrip().startswith("{"))

    def test_json_schema_outputs_validate(self):
        for index, schema in enumerate(SCHEMAS):
            with self.subTest(schema=index):
                form = {"type": "json_schema", "json_schema": {"name": f"s{index}", "schema": schema, "strict": True}}
                for value in self.constrained(form, range(10 * index, 10 * index + 5)):
                    jsonschema.validate(value, schema)

    def test_json_schema_streamed_and_completions(self):
        schema = SCHEMAS[1]
        form = {"type": "json_schema", "json_schema": {"name": "numbers", "schema": schema}}
        chunks = list(self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, max_tokens=120, seed=3, stream=True,
                                                          response_format=form, logit_bias=self.closing))
        text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
        finish = [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason]
        if finish == ["stop"]:
            jsonschema.validate(json.loads(text), schema)
        reply = self.client.completions.create(model="qwen2-test", prompt="JSON:", max_tokens=120, seed=4, logit_bias=self.closing,
                                               extra_body={"response_format": form})
        if reply.choices[0].finish_reason == "stop":
            jsonschema.validate(json.loads(reply.choices[0].text), schema)
        with open(self.server.audit) as log:
            records = [json.loads(line) for line in log]
        recorded = [record["parameters"]["response_format"] for record in records if "response_format" in record.get("parameters", {})]
        digest = hashlib.sha256(json.dumps(schema, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        self.assertIn({"type": "json_schema", "name": "numbers", "schema_sha256": digest, "strict": False}, recorded,
                      "the audit record keeps the schema's digest, not the schema")

    def test_unsupported_schema_keywords_are_named(self):
        for schema, keyword in (({"type": "string", "pattern": "^a"}, "pattern"), ({"type": "number", "minimum": 0}, "minimum"),
                                ({"type": "string", "format": "email"}, "format"), ({"allOf": [{"type": "string"}]}, "allOf")):
            with self.subTest(keyword=keyword), self.assertRaises(openai.BadRequestError) as caught:
                self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, max_tokens=5, response_format={
                    "type": "json_schema", "json_schema": {"name": "x", "schema": schema}})
            self.assertIn(f"'{keyword}'", caught.exception.body["message"])
            self.assertEqual(caught.exception.body["param"], "response_format.json_schema.schema")
        with self.assertRaises(openai.BadRequestError) as caught:
            self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, stop=["}"], response_format={"type": "json_object"})
        self.assertEqual(caught.exception.body["param"], "stop")

    # what a schema may cost (JSONSchemaLimits)

    def test_schema_limits_are_400s_naming_them(self):
        def nested(levels):
            schema = {"type": "integer"}
            for _ in range(levels - 1):
                schema = {"type": "array", "items": schema}
            return schema
        over = {
            "schema_bytes": {"enum": [f"{i}" + "x" * 1000 for i in range(300)]},
            "enum_values": {"enum": list(range(10001))},
            "alternatives": {"anyOf": [{"const": i} for i in range(257)]},
            "branches": {"anyOf": [{"type": "array", "items": {"type": "integer"}, "maxItems": i} for i in range(33)]},
            "nodes": {"type": "object", "required": [f"p{i}" for i in range(10001)]},
            "depth": nested(65),
        }
        for limit, schema in over.items():
            with self.subTest(limit=limit), self.assertRaises(openai.BadRequestError) as caught:
                self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, max_tokens=2, response_format={
                    "type": "json_schema", "json_schema": {"name": "x", "schema": schema}})
            self.assertIn(f"'{limit}'", caught.exception.body["message"])
            self.assertEqual(caught.exception.body["code"], "schema_too_large")
            self.assertEqual(caught.exception.body["param"], "response_format.json_schema.schema")
        # the schema bombs of the review: refused at once, not generated for a minute
        started = time.monotonic()
        for schema in ({"enum": [f"v{i:06d}\u00e9" for i in range(60000)]},
                       {"anyOf": [{"type": "object", "properties": {f"k{i}": {"type": "integer"}}, "required": [f"k{i}"],
                                   "additionalProperties": False} for i in range(3000)]}):
            with self.assertRaises(openai.BadRequestError):
                self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, max_tokens=8, response_format={
                    "type": "json_schema", "json_schema": {"name": "x", "schema": schema}})
        self.assertLess(time.monotonic() - started, 10)

    def test_largest_enum_is_quick_beside_a_plain_request(self):
        values = [f"v{i:05d}\u00e9" for i in range(10000)]
        results = {}

        def timed(name, **request):
            started = time.monotonic()
            results[name] = (self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, max_tokens=8, seed=5, **request),
                             time.monotonic() - started)
        big = threading.Thread(target=timed, args=("enum",), kwargs={"temperature": 1.0, "response_format": {
            "type": "json_schema", "json_schema": {"name": "big", "schema": {"enum": values}}}, "logit_bias": self.closing})
        big.start()
        timed("plain", temperature=1.0)
        big.join()
        reply, seconds = results["enum"]
        self.assertLess(seconds, 10, "8 tokens of the largest accepted enum")
        self.assertLess(results["plain"][1], 10, "a plain request beside it is served")
        self.assertEqual(results["plain"][0].usage.completion_tokens, 8)
        content = reply.choices[0].message.content
        if reply.choices[0].finish_reason == "stop":
            self.assertIn(json.loads(content), values)
        else:
            written = content.lstrip()
            self.assertTrue(any(json.dumps(value, ensure_ascii=False).startswith(written) for value in values), written)

    # parameters that are not supported

    def test_each_unsupported_parameter_is_a_400_naming_it(self):
        tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
        chat = {"tools": [tool], "tool_choice": "auto", "functions": [{"name": "f"}], "function_call": "auto",
                "parallel_tool_calls": True, "n": 2, "modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "wav"},
                "prediction": {"type": "content", "content": "x"}, "frobnicate": 1, "typical_p": 0.5}
        for key, value in chat.items():
            with self.subTest(key=key), self.assertRaises(openai.BadRequestError) as caught:
                self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, max_tokens=1, extra_body={key: value})
            self.assertEqual(caught.exception.body["param"], key)
        completions = {"best_of": 2, "echo": True, "suffix": "end", "n": 3, "grammar": "root ::= \"a\""}
        for key, value in completions.items():
            with self.subTest(key=key), self.assertRaises(openai.BadRequestError) as caught:
                self.client.completions.create(model="qwen2-test", prompt="Hi", max_tokens=1, extra_body={key: value})
            self.assertEqual(caught.exception.body["param"], key)
        image = [{"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]
        with self.assertRaises(openai.BadRequestError) as caught:
            self.client.chat.completions.create(model="qwen2-test", messages=[{"role": "user", "content": image}], max_tokens=1)
        self.assertIn("image_url", caught.exception.body["message"])
        # switched off or empty, they are accepted
        reply = self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, max_tokens=1, tools=[], tool_choice="none",
                                                    parallel_tool_calls=False, n=1, modalities=["text"], user="u", metadata={"k": "v"})
        self.assertEqual(reply.usage.completion_tokens, 1)
        text = self.client.completions.create(model="qwen2-test", prompt="Hi", max_tokens=1, best_of=1, echo=False, suffix=None)
        self.assertEqual(text.usage.completion_tokens, 1)
        with self.assertRaises(openai.BadRequestError) as caught:
            self.client.chat.completions.create(model="qwen2-test", messages=MESSAGES, max_tokens=1, top_logprobs=2)
        self.assertEqual(caught.exception.body["param"], "top_logprobs")

    # /tokenize and /detokenize

    def test_tokenize_detokenize_round_trip(self):
        # (the fixture's vocabulary, cut to 1,024 tokens, has no lone "▁": a space before a digit or an emoji falls back to
        # the bytes of "▁", which decode as that character, as in llama.cpp)
        text = "Hello, world!{\"a\":[1,2]}é😀"
        tokens = self.http.post("/tokenize", json={"content": text}).json()["tokens"]
        self.assertTrue(tokens and all(isinstance(token, int) for token in tokens))
        self.assertEqual(self.http.post("/detokenize", json={"tokens": tokens}).json()["content"].strip(), text)
        with_bos = self.http.post("/tokenize", json={"content": text, "add_special": True}).json()["tokens"]
        self.assertEqual(with_bos[1:], tokens)
        self.assertEqual(with_bos[0], self.ids["<s>"])
        pieces = self.http.post("/tokenize", json={"content": text, "with_pieces": True}).json()["tokens"]
        self.assertEqual([piece["id"] for piece in pieces], tokens)
        joined = b"".join(piece["piece"].encode() if isinstance(piece["piece"], str) else bytes(piece["piece"]) for piece in pieces)
        self.assertEqual(joined.decode().strip(), text)
        self.assertEqual(httpx.post(self.server.base + "/tokenize", json={"content": "x"}).status_code, 401, "authenticated")
        self.assertEqual(self.http.post("/detokenize", json={"tokens": [self.size]}).status_code, 400)
        self.assertEqual(self.http.post("/tokenize", json={"content": 5}).status_code, 400)
        self.assertEqual(self.http.get("/tokenize").status_code, 405)


if __name__ == "__main__":
    unittest.main()
