"""Generates Tests/InferenceTests/Fixtures/guardrails/corpus.jsonl: the labelled corpus the deterministic personal-data
and secret detectors (issue 40) are scored on, precision and recall per detector. Genuine instances carry valid
checksums (Luhn, IBAN mod-97, the SSA's SSN rules, base64url JSON for JWTs), near misses fail exactly one check (a
changed digit, a wrong length, an unknown country, a missing keyword), and Unicode tricks go both ways.

Needs only Python 3's standard library and writes the same file on every run (seeded `random.Random(40)`):
    python3 scripts/make_guardrail_corpus.py

Each line is one JSON object {"kind", "label", "text", "value", "case"}, written with ASCII escapes so that invisible
characters show (`\\u200b`). `kind` is one of email, phone, payment_card, iban, us_ssn, ip_address, aws_access_key,
aws_secret_key, private_key, jwt. `text` holds the candidate `value` exactly once and nothing else that any of the ten
detectors should report (its words hold no ASCII digit, no `@`, no `::`, no "secret" outside aws_secret_key lines; no
13-19 digits in a row, IBAN and phone digits included, pass Luhn unless they are a genuine card; the script checks all
of it with its own reference detectors), so a scanner run over the whole corpus should report, on each line, exactly one finding,
`value` as `kind`, where `label` is true, and nothing at all where it is false. `case` says what the line tests.
Texts are under 300 characters, except private keys (a realistic PEM block is longer): under 700.

The conventions the labels assume:
- Detectors match ASCII forms. Full-width digits or `＠`, Arabic-Indic digits and a Cyrillic letter in a domain are
  not the ASCII thing, and a zero-width space (U+200B) inside a value breaks it: those lines are near misses (case
  "zero-width space inside" or "unicode: ..."), and the break is placed so that no fragment is a candidate either.
  Normalising homoglyphs and zero-width characters belongs to the word lists, a separate feature not scored here.
- Non-ASCII around a value (accents, CJK letters with no space, full-width punctuation, NBSP, Arabic, emoji) must not
  hide a genuine value nor enter its span (case "unicode: ...", label true).
- A value is a whole token. A card is a whole run of ASCII digits with single spaces or dashes between groups (never
  across a newline), 13-19 digits, Luhn-valid; its span keeps the separators as written. An IPv4 address is not part of
  a longer dotted run (1.3.6.1.4.1 is an OID, 1.2.3.4.5 a version), but a sentence's full stop after it is no part of
  it. An AWS access key is AKIA or ASIA and exactly 16 of [A-Z2-7] (AIDA and AROA are IAM ids, not keys).
- Phones: E.164 (+ and 8-15 digits, compact or with single spaces), US national `(415) 555-0132`, `415-555-0132`,
  `415.555.0132`, UK `020 7946 0958`, French `01 23 45 67 89`; the span keeps the + and the parentheses.
- IBANs: known country, that country's length, mod-97, compact or in groups of four separated by single spaces.
- US SSNs: only the dashed form AAA-GG-SSSS, area not 000, 666 or 9xx, group not 00, serial not 0000.
- An AWS secret key is 40 of [A-Za-z0-9/+] as a whole token, with "secret" (as in aws_secret_access_key,
  SecretAccessKey, `secret:`) earlier on its line; the span is the 40 characters only. No other line says "secret".
- A private key is a PEM block whose label ends in PRIVATE KEY (PKCS#8, RSA, EC, OPENSSH, ENCRYPTED), BEGIN line
  through END line; bodies are random bytes (some behind real DER or openssh-key-v1 prefixes), not anyone's key. The
  same block inside a JSON string with `\\n` escapes (a service-account file) counts. Public keys, certificates and
  certificate requests do not, nor does a lone BEGIN line.
- A JWT is three base64url parts (no padding), the header a JSON object with "alg", the payload a JSON object.
"""
import base64
import ipaddress
import json
import os
import random
import re

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures", "guardrails")
PATH = os.path.join(OUT, "corpus.jsonl")

KINDS = ["email", "phone", "payment_card", "iban", "us_ssn", "ip_address", "aws_access_key", "aws_secret_key",
         "private_key", "jwt"]
ZWSP = "\u200b"
NBSP = "\u00a0"
FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

# The words around each kind's values: realistic chat prompts, log lines and JSON, in several languages. No ASCII
# digit, `@`, "secret" or `::` in any of them; `{v}` marks the value.
TEMPLATES = {
    "email": [
        "Please send the invoice to {v} by Friday.",
        "Can you draft a polite reply to {v} declining the meeting?",
        '{"user": {"email": "{v}", "role": "admin"}}',
        "INFO mailer: delivered message to <{v}> status=sent",
        "From: Jane Doe <{v}>",
        "Schreiben Sie bitte an {v} – danke schön!",
        "Mi correo es {v}, escríbeme cuando puedas.",
        "Сообщите, пожалуйста, на {v} до пятницы.",
        "Wyślij proszę na adres {v} – dziękuję!",
        "(primary contact: {v})",
        "Is {v} the right address for billing questions?",
        "reply_to={v}; lang=en",
    ],
    "phone": [
        "Call me back at {v} when you land.",
        "Rappelez-moi au {v}, s'il vous plaît.",
        '{"customer": {"phone": "{v}", "verified": true}}',
        "WARN sms: delivery failed for {v} (carrier timeout)",
        "Mobil: {v} – bitte nur abends anrufen.",
        "Is {v} a valid number for the signup form?",
        "Número de contacto: {v}, horario de oficina.",
        "Please add {v} to the on-call rota.",
        "Позвоните мне по номеру {v} завтра утром.",
        "contact_phone={v} source=web",
    ],
    "payment_card": [
        "Charge my card {v} for the annual plan.",
        "Mi tarjeta es {v}, ¿pueden actualizarla?",
        '{"payment": {"card_number": "{v}", "holder": "J DOE"}}',
        "ERROR billing: card {v} declined (insufficient funds)",
        "Please update the card on file to {v} thanks",
        "Kartennummer: {v} – gültig bis Ende des Jahres.",
        "💳 {v}",
        "Can you check whether {v} is a valid card number?",
        "Номер карты {v}, срок действия до конца года.",
    ],
    "iban": [
        "Please wire the refund to {v} this week.",
        "IBAN: {v}",
        '{"beneficiary": {"iban": "{v}", "name": "ACME GmbH"}}',
        "Bitte überweisen Sie den Betrag auf {v}, danke.",
        "Mon IBAN est {v}, merci de corriger le virement.",
        "INFO payouts: scheduled transfer to {v}",
        "Il mio IBAN è {v}, grazie.",
        "Is {v} a valid IBAN?",
        "Mijn rekeningnummer is {v}, graag snel overmaken.",
    ],
    "us_ssn": [
        "My SSN is {v}, can you fill in the form for me?",
        '{"applicant": {"ssn": "{v}", "state": "CA"}}',
        "ERROR kyc: ssn={v} rejected by verifier",
        "Número de Seguro Social: {v}",
        "Social Security number {v} — please redact before sharing.",
        "SSN: {v}",
        "Le numéro de sécurité sociale américain est {v}, c'est bien ça ?",
        "Please verify {v} for the payroll record.",
        "Sozialversicherungsnummer (USA): {v}",
    ],
    "ip_address": [
        "Connection refused from {v}, retrying",
        "INFO gateway: upstream {v} marked healthy",
        '{"client_ip": "{v}", "method": "GET"}',
        "Why can't I ping {v} from the VPN?",
        "Le serveur écoute sur {v} depuis ce matin.",
        "Blocked request from {v} (rate limit exceeded)",
        "Bitte {v} zur Allowlist hinzufügen.",
        "allow_from={v} action=accept",
        "Сервер {v} не отвечает.",
    ],
    "aws_access_key": [
        "aws_access_key_id = {v}",
        "AWS_ACCESS_KEY_ID={v}",
        '{"AccessKeyId": "{v}", "Status": "Active"}',
        "Why does {v} get AccessDenied on the bucket?",
        "WARN auth: signature mismatch for access key {v}",
        "Ma clé d'accès {v} ne fonctionne plus depuis hier.",
        "Rotate {v} before Friday, it was pasted in the team chat.",
        "Zugriffsschlüssel {v} wurde deaktiviert.",
        'export AWS_ACCESS_KEY_ID="{v}"',
    ],
    "aws_secret_key": [
        "aws_secret_access_key = {v}",
        "AWS_SECRET_ACCESS_KEY={v}",
        'export AWS_SECRET_ACCESS_KEY="{v}"',
        '{"SecretAccessKey": "{v}", "SessionToken": null}',
        "secret: {v}",
        "aws configure set aws_secret_access_key {v}",
        "Voici ma aws_secret_access_key : {v} — est-elle compromise ?",
        '"secret": "{v}",',
        "WARN config: secret={v} found in plain text",
        "Mein secret ist {v}, bitte rotieren.",
    ],
    "private_key": [
        "ssh says invalid format for this key, why?\n{v}",
        "Here is the deploy key for staging:\n{v}\nPlease rotate it after the demo.",
        "```\n{v}\n```",
        "Le fichier de clé contient :\n{v}",
        "私钥如下：\n{v}\n请帮我检查格式。",
        "$ cat server.pem\n{v}",
        "Config dump follows.\n{v}\nEnd of dump.",
        "Kannst du prüfen, ob dieser Schlüssel passt?\n{v}",
    ],
    "jwt": [
        "Authorization: Bearer {v}",
        "Cookie: session={v}; Path=/; HttpOnly",
        '{"access_token": "{v}", "token_type": "Bearer"}',
        "jwt.io says invalid signature for {v}, why?",
        "Le jeton {v} a-t-il expiré ?",
        "WARN auth: rejected bearer {v} (expired)",
        "curl -H 'Authorization: Bearer {v}' https://api.example.com/orders",
        "Callback: /login#id_token={v}&state=xyz",
        "Das Token {v} wird vom Gateway abgelehnt.",
    ],
}


# ----- checksums and formats ------------------------------------------------------------------------------------------

def luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_complete(partial):
    """`partial` and the check digit that makes it Luhn-valid."""
    return next(partial + c for c in "0123456789" if luhn_ok(partial + c))


IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "BY": 28,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}


def iban_number(chars):
    return int("".join(c if c.isdigit() else str(ord(c) - 55) for c in chars))


def iban_mod97_ok(iban):
    compact = iban.replace(" ", "")
    return compact.isascii() and compact.isalnum() and iban_number(compact[4:] + compact[:4]) % 97 == 1


def iban_with_check(country, bban):
    return f"{country}{98 - iban_number(bban + country + '00') % 97:02d}{bban}"


def iban_valid(iban):
    compact = iban.replace(" ", "")
    grouped = " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
    return (iban in (compact, grouped) and re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]+", compact) is not None
            and IBAN_LENGTHS.get(compact[:2]) == len(compact) and iban_mod97_ok(compact))


def ssn_valid(value):
    m = re.fullmatch(r"([0-9]{3})-([0-9]{2})-([0-9]{4})", value)
    return bool(m) and m[1] not in ("000", "666") and m[1][0] != "9" and m[2] != "00" and m[3] != "0000"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(part):
    """The JSON object a base64url part decodes to, or None."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", part) or len(part) % 4 == 1:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def jwt_valid(token):
    parts = token.split(".")
    if len(parts) != 3 or not all(re.fullmatch(r"[A-Za-z0-9_-]+", p) for p in parts) or len(parts[2]) % 4 == 1:
        return False
    header, payload = b64url_json(parts[0]), b64url_json(parts[1])
    return header is not None and "alg" in header and payload is not None


# ----- reference detectors --------------------------------------------------------------------------------------------
# Plain regexes and the checks above, as the conventions in the docstring read. They are not the server's detectors:
# they prove that every line is labelled consistently (each genuine value found with exactly its span, nothing else
# found anywhere) by at least one deterministic scanner.

PHONE_PATTERNS = [
    r"\+[1-9][0-9]{6,14}",
    r"\+[1-9][0-9]{0,2}(?: [0-9]{1,8}){2,5}",
    r"\([2-9][0-9]{2}\) [2-9][0-9]{2}-[0-9]{4}",
    r"[2-9][0-9]{2}([-.])[2-9][0-9]{2}\1[0-9]{4}",
    r"0[1-9][0-9] [0-9]{4} [0-9]{4}",
    r"0[1-9](?: [0-9]{2}){4}",
]


def reference_findings(text):
    found = []

    def add(kind, m, group=0):
        found.append((kind, m.start(group), m.end(group)))

    for m in re.finditer(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
                         r"(?![A-Za-z0-9-])", text):
        add("email", m)
    for pattern in PHONE_PATTERNS:
        for m in re.finditer(r"(?<![A-Za-z0-9+(.-])" + pattern + r"(?![0-9])(?![-.][0-9])", text):
            digits = re.sub(r"[^0-9]", "", m.group())
            if not m.group().startswith("+") or 8 <= len(digits) <= 15:
                add("phone", m)
    for m in re.finditer(r"(?<![0-9])[0-9]+(?:[ -][0-9]+)*(?![0-9])", text):
        digits = re.sub(r"[ -]", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            add("payment_card", m)
    for m in re.finditer(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)"
                         r"(?![A-Za-z0-9])", text):
        if iban_valid(m.group()):
            add("iban", m)
    for m in re.finditer(r"(?<![0-9-])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![0-9-])", text):
        if ssn_valid(m.group()):
            add("us_ssn", m)
    for m in re.finditer(r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?!\.?[0-9])", text):
        try:
            ipaddress.IPv4Address(m.group())
            add("ip_address", m)
        except ValueError:
            pass
    for m in re.finditer(r"(?<![0-9A-Za-z:])[0-9A-Fa-f:]{2,39}(?![0-9A-Za-z:])", text):
        if m.group().count(":") >= 2:
            try:
                ipaddress.IPv6Address(m.group())
                add("ip_address", m)
            except ValueError:
                pass
    for m in re.finditer(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z2-7]{16}(?![A-Za-z0-9])", text):
        add("aws_access_key", m)
    for m in re.finditer(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", text):
        line = text[:m.start()].rsplit("\n", 1)[-1]
        if "secret" in line[-40:].lower():
            add("aws_secret_key", m)
    for m in re.finditer(r"-----BEGIN ((?:[A-Z]+ )*)PRIVATE KEY-----.*?-----END \1PRIVATE KEY-----", text, re.S):
        add("private_key", m)
    for m in re.finditer(r"(?<![A-Za-z0-9_.-])[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?![A-Za-z0-9_.-])", text):
        if jwt_valid(m.group()):
            add("jwt", m)
    return sorted(set(found), key=lambda f: (f[1], f[2], f[0]))


def luhn_windows(text):
    """Every run of consecutive ASCII digit groups (single space or dash between) of 13-19 digits that passes Luhn."""
    hits = []
    for m in re.finditer(r"[0-9]+(?:[ -][0-9]+)*", text):
        groups = re.split(r"[ -]", m.group())
        for i in range(len(groups)):
            for j in range(i + 1, len(groups) + 1):
                digits = "".join(groups[i:j])
                if 13 <= len(digits) <= 19 and luhn_ok(digits):
                    hits.append(digits)
    return hits


def problems(sample):
    """Why a sample would not do, or an empty list."""
    kind, label, text, value = sample["kind"], sample["label"], sample["text"], sample["value"]
    found = []
    if text.count(value) != 1:
        found.append("value not exactly once in text")
    if len(text) >= (700 if kind == "private_key" else 300):
        found.append("text too long")
    start = text.find(value)
    words = text[:start] + "\x00" + text[start + len(value):]
    if re.search(r"[0-9@]|::", words):
        found.append("digit, @ or :: in the words around the value")
    if kind != "aws_secret_key" and "secret" in text.lower():
        found.append("secret outside aws_secret_key")
    if kind == "aws_secret_key" and label and "secret" not in words.lower():
        found.append("no keyword")
    before, after = text[start - 1:start], text[start + len(value):start + len(value) + 2]
    if before and re.match(r"[A-Za-z0-9_+\-/.@]", before):
        found.append(f"value glued to {before!r}")
    if after and (re.match(r"[A-Za-z0-9_+\-/=@]", after) or re.match(r"\.[A-Za-z0-9]", after)):
        found.append(f"value glued to {after!r}")
    for marker, owner in [("AKIA", "aws_access_key"), ("ASIA", "aws_access_key"), ("-----BEGIN", "private_key"),
                          ("PRIVATE KEY", "private_key"), ("eyJ", "jwt")]:
        if kind != owner and marker in text:
            found.append(f"{marker} outside {owner}")
    if kind in ("aws_access_key", "aws_secret_key", "private_key", "jwt") and re.search(r"[0-9]{6,}", text):
        found.append("long digit run in a token")
    if not (kind == "payment_card" and label) and luhn_windows(text):
        found.append(f"Luhn-valid digits {luhn_windows(text)}")
    expected = [(kind, start, start + len(value))] if label else []
    if reference_findings(text) != expected:
        found.append(f"reference detectors found {reference_findings(text)}, expected {expected}")
    return found


# ----- the corpus -----------------------------------------------------------------------------------------------------

class Corpus:
    def __init__(self, rng):
        self.rng = rng
        self.samples = []
        self.cursor = {}

    def template(self, kind):
        """The kind's templates in turn, reshuffled each round, so that each is used about as often."""
        pool, i = self.cursor.get(kind, ([], 0))
        if i >= len(pool):
            pool, i = list(TEMPLATES[kind]), 0
            self.rng.shuffle(pool)
        self.cursor[kind] = (pool, i + 1)
        return pool[i]

    def add(self, kind, label, case, value, templates=None):
        """One sample: `value` (or a callable making one) in one of `templates` (the kind's own by default), drawn
        again until the sample has no problems."""
        issues = []
        for _ in range(400):
            v = value() if callable(value) else value
            t = self.rng.choice(templates) if templates else self.template(kind)
            sample = {"kind": kind, "label": label, "text": t.replace("{v}", v), "value": v, "case": case}
            issues = problems(sample)
            if not issues:
                self.samples.append(sample)
                return
        raise SystemExit(f"no clean sample for {kind} [{case}]: {issues}")


def digits(rng, n):
    return "".join(rng.choice("0123456789") for _ in range(n))


def random_bytes(rng, n):
    return bytes(rng.randrange(256) for _ in range(n))


# payment_card

CARD_GROUPS = {13: [4, 3, 3, 3], 14: [4, 6, 4], 15: [4, 6, 5], 16: [4, 4, 4, 4], 19: [4, 4, 4, 4, 3]}
CARD_BRANDS = {
    "Visa": lambda r: "4",
    "Mastercard": lambda r: str(r.randint(51, 55)),
    "Mastercard 2-series": lambda r: str(r.randint(2221, 2720)),
    "Amex": lambda r: r.choice(["34", "37"]),
    "Discover": lambda r: r.choice(["6011", "65", str(r.randint(644, 649))]),
    "JCB": lambda r: str(r.randint(3528, 3589)),
    "Diners Club": lambda r: "36",
}


def card_format(number, style):
    if style == "plain":
        return number
    groups, i = [], 0
    for size in CARD_GROUPS[len(number)]:
        groups.append(number[i:i + size])
        i += size
    return {"spaces": " ", "dashes": "-"}[style].join(groups)


def card_number(rng, brand, length, valid=True):
    partial = CARD_BRANDS[brand](rng)
    partial += digits(rng, length - 1 - len(partial))
    number = luhn_complete(partial)
    if not valid:
        number = number[:-1] + rng.choice([c for c in "0123456789" if c != number[-1]])
    return number


def payment_cards(corpus):
    r = corpus.rng
    positives = [("Visa", 13, "plain"), ("Visa", 13, "spaces"), ("Visa", 16, "plain"), ("Visa", 16, "spaces"),
                 ("Visa", 16, "dashes"), ("Visa", 19, "plain"), ("Visa", 19, "spaces"), ("Mastercard", 16, "plain"),
                 ("Mastercard", 16, "spaces"), ("Mastercard", 16, "dashes"), ("Mastercard 2-series", 16, "plain"),
                 ("Mastercard 2-series", 16, "spaces"), ("Amex", 15, "plain"), ("Amex", 15, "spaces"),
                 ("Amex", 15, "dashes"), ("Discover", 16, "plain"), ("Discover", 16, "spaces"),
                 ("Discover", 16, "dashes"), ("Discover", 19, "plain"), ("Discover", 19, "dashes"), ("JCB", 16, "plain"),
                 ("JCB", 16, "spaces"), ("JCB", 17, "plain"), ("JCB", 18, "plain"), ("JCB", 19, "plain"),
                 ("Diners Club", 14, "plain"), ("Diners Club", 14, "spaces")]
    for brand, length, style in positives:
        corpus.add("payment_card", True, f"{brand} {length} digits, {style}",
                   lambda: card_format(card_number(r, brand, length), style))
    corpus.add("payment_card", True, "well-known test card, spaces", "4242 4242 4242 4242")
    corpus.add("payment_card", True, "unicode: Japanese letters either side, no spaces",
               lambda: card_format(card_number(r, "Visa", 16), "spaces"), ["カード番号は{v}です。"])
    corpus.add("payment_card", True, "unicode: NBSP before the colon and the number",
               lambda: card_format(card_number(r, "Mastercard", 16), "dashes"), ["Numéro de carte\u00a0:\u00a0{v}"])

    for brand, length, style in [("Visa", 16, "spaces"), ("Mastercard", 16, "plain"), ("Amex", 15, "dashes"),
                                 ("Discover", 16, "spaces"), ("JCB", 19, "plain"), ("Visa", 13, "plain")]:
        corpus.add("payment_card", False, f"invalid Luhn: {brand} {length} digits, {style}",
                   lambda: card_format(card_number(r, brand, length, valid=False), style))
    orders = ["Your order {v} has shipped.", "Bestellnummer {v} wurde storniert.",
              "Tracking number {v} is out for delivery."]
    for _ in range(3):
        corpus.add("payment_card", False, "order number, 16 digits, fails Luhn",
                   lambda: next(n for n in iter(lambda: r.choice("123456789") + digits(r, 15), None) if not luhn_ok(n)),
                   orders)
    corpus.add("payment_card", False, "wrong length: 12 digits, Luhn-valid", lambda: card_number(r, "Visa", 12))
    corpus.add("payment_card", False, "wrong length: 20 digits, Luhn-valid", lambda: card_number(r, "Visa", 20))
    corpus.add("payment_card", False, "wrong length: 20 digits in groups of four, Luhn-valid",
               lambda: " ".join(re.findall("....", card_number(r, "Mastercard", 20))))
    corpus.add("payment_card", False, "Luhn-valid digits split across a newline",
               lambda: card_format(card_number(r, "Visa", 16), "spaces").replace(" ", "\n", 2).replace("\n", " ", 1))
    corpus.add("payment_card", False, "Luhn-valid digits split across a newline",
               lambda: (lambda n: n[:8] + "\n" + n[8:])(card_number(r, "Mastercard", 16)))
    corpus.add("payment_card", False, "zero-width space inside",
               lambda: (lambda n: n[:8] + ZWSP + n[8:])(card_number(r, "Visa", 16)))
    corpus.add("payment_card", False, "zero-width space inside",
               lambda: card_format(card_number(r, "Mastercard", 16), "spaces").replace(" ", ZWSP, 2).replace(ZWSP, " ", 1))
    corpus.add("payment_card", False, "unicode: full-width digits (not ASCII), Luhn-valid",
               lambda: card_format(card_number(r, "Visa", 16), "spaces").translate(FULL_WIDTH_DIGITS))
    corpus.add("payment_card", False, "unicode: full-width digits (not ASCII), Luhn-valid",
               lambda: card_number(r, "JCB", 16).translate(FULL_WIDTH_DIGITS), ["カード番号は{v}です。"])


# iban

def bban(rng, country):
    alnum = lambda n: "".join(rng.choice("0123456789" * 3 + "ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(n))
    if country == "DE":
        return digits(rng, 18)
    if country == "GB":
        return rng.choice(["NWBK", "BARC", "HBUK", "LOYD", "MIDL"]) + digits(rng, 14)
    if country == "IE":
        return rng.choice(["AIBK", "BOFI"]) + digits(rng, 14)
    if country == "FR":
        bank, branch, account = digits(rng, 5), digits(rng, 5), digits(rng, 11)
        key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
        return f"{bank}{branch}{account}{key:02d}"
    if country == "NL":
        return rng.choice(["ABNA", "INGB", "RABO", "TRIO"]) + digits(rng, 10)
    if country == "IT":
        return rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + digits(rng, 10) + digits(rng, 12)
    if country == "BE":
        first = digits(rng, 10)
        return f"{first}{int(first) % 97 or 97:02d}"
    if country == "CH":
        return digits(rng, 5) + alnum(12)
    if country == "LU":
        return digits(rng, 3) + alnum(13)
    return digits(rng, IBAN_LENGTHS[country] - 4)


def grouped(iban):
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def styled(iban, style):
    return grouped(iban) if style == "grouped" else iban


def change_one_digit(rng, iban):
    positions = [i for i, c in enumerate(iban) if c.isdigit() and i >= 2]
    i = rng.choice(positions)
    return iban[:i] + rng.choice([c for c in "0123456789" if c != iban[i]]) + iban[i + 1:]


def ibans(corpus):
    r = corpus.rng
    for country in ["DE", "GB", "FR", "NL", "ES", "IT", "BE", "CH", "AT", "PL", "NO", "IE", "SE", "LU"]:
        for style in ["compact", "grouped"]:
            corpus.add("iban", True, f"{country}, {IBAN_LENGTHS[country]} characters, {style}",
                       lambda: styled(iban_with_check(country, bban(r, country)), style))
    corpus.add("iban", True, "well-known example IBAN (DE), grouped", "DE89 3704 0044 0532 0130 00")
    corpus.add("iban", True, "unicode: full-width colon and parentheses before it",
               lambda: grouped(iban_with_check("GB", bban(r, "GB"))), ["收款账户（IBAN）：{v}"])

    for country, style in [("DE", "compact"), ("GB", "grouped"), ("FR", "grouped"), ("NL", "compact"),
                           ("ES", "grouped"), ("IT", "compact"), ("CH", "grouped")]:
        corpus.add("iban", False, f"one digit changed (bad mod-97): {country}, {style}",
                   lambda: styled(change_one_digit(r, iban_with_check(country, bban(r, country))), style))
    for country, delta, style in [("DE", -1, "compact"), ("DE", 1, "grouped"), ("GB", -1, "grouped"),
                                  ("NL", 1, "compact"), ("BE", 1, "compact"), ("FR", -1, "grouped")]:
        corpus.add("iban", False, f"wrong length for {country} ({IBAN_LENGTHS[country] + delta}), mod-97 valid, {style}",
                   lambda: styled(iban_with_check(country, (lambda b: b[:-1] if delta < 0 else b + digits(r, 1))(
                       bban(r, country))), style))
    for country, length, style in [("ZZ", 22, "grouped"), ("XY", 18, "compact"), ("QQ", 24, "grouped"),
                                   ("AB", 16, "compact")]:
        corpus.add("iban", False, f"unknown country code {country}, mod-97 valid, {style}",
                   lambda: styled(iban_with_check(country, digits(r, length - 4)), style))
    corpus.add("iban", False, "zero-width space inside",
               lambda: (lambda i: i[:4] + ZWSP + i[4:])(iban_with_check("DE", bban(r, "DE"))))


# phone

def phones_e164_compact(r):
    return [
        ("DE mobile", lambda: "+49" + r.choice(["151", "160", "170", "176"]) + digits(r, 8)),
        ("US", lambda: "+1" + r.choice(["212", "312", "415", "617"]) + "55501" + digits(r, 2)),
        ("UK mobile", lambda: "+447700900" + digits(r, 3)),
        ("FR mobile", lambda: "+33" + r.choice("67") + digits(r, 8)),
        ("JP mobile", lambda: "+81" + r.choice(["80", "90"]) + digits(r, 8)),
        ("AU mobile", lambda: "+614" + digits(r, 8)),
        ("BR mobile", lambda: "+55119" + digits(r, 8)),
        ("IN mobile", lambda: "+91" + r.choice("6789") + digits(r, 9)),
    ]


def phones_e164_spaced(r):
    return [
        ("US", lambda: f"+1 {r.choice(['212', '415', '503', '646'])} 555 01{digits(r, 2)}"),
        ("UK London", lambda: f"+44 20 7946 0{digits(r, 3)}"),
        ("FR", lambda: "+33 " + r.choice("1234567") + "".join(" " + digits(r, 2) for _ in range(4))),
        ("DE Berlin", lambda: f"+49 30 {digits(r, 8)}"),
        ("JP Tokyo", lambda: f"+81 3 {digits(r, 4)} {digits(r, 4)}"),
        ("ES Madrid", lambda: f"+34 91{digits(r, 1)} {digits(r, 3)} {digits(r, 3)}"),
        ("IT Rome", lambda: f"+39 06 {digits(r, 4)} {digits(r, 4)}"),
    ]


def us_area(r):
    return r.choice(["212", "213", "312", "415", "503", "617", "646", "702", "206", "305"])


def phones(corpus):
    r = corpus.rng
    for name, make in phones_e164_compact(r):
        corpus.add("phone", True, f"E.164 compact: {name}", make)
    for name, make in phones_e164_spaced(r):
        corpus.add("phone", True, f"E.164 with spaces: {name}", make)
    for _ in range(2):
        corpus.add("phone", True, "US national (415) 555-0132", lambda: f"({us_area(r)}) 555-01{digits(r, 2)}")
        corpus.add("phone", True, "US national 415-555-0132", lambda: f"{us_area(r)}-555-01{digits(r, 2)}")
        corpus.add("phone", True, "US national 415.555.0132", lambda: f"{us_area(r)}.555.01{digits(r, 2)}")
    for _ in range(3):
        corpus.add("phone", True, "UK national 020 7946 0958", lambda: f"020 7946 0{digits(r, 3)}")
        corpus.add("phone", True, "FR national 01 23 45 67 89",
                   lambda: "0" + r.choice("1234567") + "".join(" " + digits(r, 2) for _ in range(4)))
    corpus.add("phone", True, "unicode: full-width parentheses around it, Chinese either side",
               lambda: f"+86 10 {digits(r, 4)} {digits(r, 4)}", ["请致电（{v}）咨询。"])
    corpus.add("phone", True, "unicode: Japanese letters either side, no spaces",
               lambda: f"+81 3 {digits(r, 4)} {digits(r, 4)}", ["電話番号は{v}です。"])
    corpus.add("phone", True, "unicode: NBSP before it",
               lambda: "0" + r.choice("1234567") + "".join(" " + digits(r, 2) for _ in range(4)),
               ["Tél.\u00a0:\u00a0{v}"])
    corpus.add("phone", True, "unicode: Arabic text before it", lambda: f"+971 4 {digits(r, 3)} {digits(r, 4)}",
               ["رقم الهاتف: {v}"])

    dates = ["Released on {v}, see the changelog.", "Rendez-vous le {v} à la mairie.", "Termin am {v} bestätigt."]
    day, month, year = lambda: f"{r.randint(1, 28):02d}", lambda: f"{r.randint(1, 12):02d}", lambda: f"20{r.randint(10, 29)}"
    for _ in range(3):
        corpus.add("phone", False, "ISO date", lambda: f"{year()}-{month()}-{day()}", dates)
    corpus.add("phone", False, "date with slashes", lambda: f"{day()}/{month()}/{year()}", dates)
    corpus.add("phone", False, "date with dots", lambda: f"{day()}.{month()}.{year()}", dates)
    versions = ["Upgrade the agent to {v} before deploying.", "Bitte auf {v} aktualisieren.",
                "The changelog for {v} lists the fix."]
    for _ in range(3):
        corpus.add("phone", False, "version string", lambda: f"v{r.randint(1, 20)}.{r.randint(0, 12)}.{r.randint(0, 9)}",
                   versions)
    for _ in range(2):
        corpus.add("phone", False, "short number 555-0132", lambda: f"555-01{digits(r, 2)}",
                   ["Dial {v} from any office phone.", "Extension {v} is the help desk."])
        corpus.add("phone", False, "order id #123456", lambda: "#" + r.choice("123456789") + digits(r, 5),
                   ["Order {v} has shipped.", "Commande {v} expédiée.", "Ticket {v} was closed as a duplicate."])
        corpus.add("phone", False, "ZIP+4 code", lambda: f"9{digits(r, 4)}-{digits(r, 4)}",
                   ["Ship it to San Francisco, CA {v} please.", "Mailing address ends with CA {v}, right?"])
        corpus.add("phone", False, "US number one digit short", lambda: f"{us_area(r)}-555-01{digits(r, 1)}")
    corpus.add("phone", False, "ISBN-13 with dashes", "978-3-16-148410-0", ["ISBN {v}, paperback edition."])
    corpus.add("phone", False, "price", lambda: f"{r.randint(1, 9)},{digits(r, 3)}.{digits(r, 2)}",
               ["Total: {v} EUR", "Le total est de {v} € TTC."])
    corpus.add("phone", False, "time of day", lambda: f"{r.randint(10, 23)}:{r.choice(['00', '15', '30', '45'])}",
               ["Meeting moved to {v} tomorrow.", "Backup finished at {v} local time."])


# us_ssn

def ssn(rng, area=None, group=None, serial=None):
    if area is None:
        area = rng.choice([a for a in range(1, 900) if a != 666])
    group = rng.randint(1, 99) if group is None else group
    serial = rng.randint(1, 9999) if serial is None else serial
    return f"{area:03d}-{group:02d}-{serial:04d}"


def ssns(corpus):
    r = corpus.rng
    for _ in range(28):
        corpus.add("us_ssn", True, "valid AAA-GG-SSSS", lambda: ssn(r))
    corpus.add("us_ssn", True, "unicode: Japanese full-width colon before it", lambda: ssn(r), ["社会保障番号：{v}"])
    corpus.add("us_ssn", True, "unicode: Cyrillic text and an em dash before it", lambda: ssn(r),
               ["Номер социального страхования — {v}"])

    for _ in range(2):
        corpus.add("us_ssn", False, "area 000", lambda: ssn(r, area=0))
        corpus.add("us_ssn", False, "area 666", lambda: ssn(r, area=666))
        corpus.add("us_ssn", False, "group 00", lambda: ssn(r, group=0))
        corpus.add("us_ssn", False, "serial 0000", lambda: ssn(r, serial=0))
    for _ in range(3):
        corpus.add("us_ssn", False, "area 9xx", lambda: ssn(r, area=r.randint(900, 999)))
    for _ in range(4):
        corpus.add("us_ssn", False, "nine digits without dashes (only the dashed form is flagged)",
                   lambda: ssn(r).replace("-", ""))
    corpus.add("us_ssn", False, "spaces instead of dashes", lambda: ssn(r).replace("-", " "))
    corpus.add("us_ssn", False, "dots instead of dashes", lambda: ssn(r).replace("-", "."))
    corpus.add("us_ssn", False, "unicode: Arabic-Indic digits (not ASCII)",
               lambda: ssn(r).translate(ARABIC_INDIC_DIGITS))
    corpus.add("us_ssn", False, "unicode: full-width digits (not ASCII)", lambda: ssn(r).translate(FULL_WIDTH_DIGITS))
    corpus.add("us_ssn", False, "zero-width space inside", lambda: (lambda s: s[:6] + ZWSP + s[6:])(ssn(r)))


# email

LOCALS = ["jane.doe", "j.smith", "maria.garcia", "li.wei", "tanaka.yuki", "olivia", "k.nowak", "first_last",
          "ops-team", "noreply", "pierre.martin", "a.rossi"]
DOMAINS = ["example.com", "example.org", "example.net", "exemple.fr", "beispiel.de", "example.co.uk",
           "my-company.example", "example.io"]
SUBDOMAINS = ["mail.example.com", "eu.mail.example.net", "corp.example.io", "support.example.org",
              "dept.uni.example.edu"]


def emails(corpus):
    r = corpus.rng
    for _ in range(10):
        corpus.add("email", True, "ordinary", lambda: f"{r.choice(LOCALS)}@{r.choice(DOMAINS)}")
    for _ in range(5):
        corpus.add("email", True, "plus tag",
                   lambda: f"{r.choice(LOCALS)}+{r.choice(['invoices', 'news', 'github', 'test'])}@{r.choice(DOMAINS)}")
    for _ in range(5):
        corpus.add("email", True, "subdomain", lambda: f"{r.choice(LOCALS)}@{r.choice(SUBDOMAINS)}")
    corpus.add("email", True, "digits in the local part", lambda: f"jsmith{r.randint(10, 99)}@{r.choice(DOMAINS)}")
    corpus.add("email", True, "upper case", lambda: f"John.Smith@{r.choice(['Example.COM', 'EXAMPLE.ORG'])}")
    corpus.add("email", True, "hyphen in the domain", "billing@my-company.example")
    corpus.add("email", True, "sentence full stop after the address", lambda: f"{r.choice(LOCALS)}@{r.choice(DOMAINS)}",
               ["My address is {v}.", "Écrivez à {v}."])
    corpus.add("email", True, "mailto link", lambda: f"{r.choice(LOCALS)}@{r.choice(DOMAINS)}",
               ['<a href="mailto:{v}">write to us</a>'])
    corpus.add("email", True, "unicode: French text with accents around it", "jean.dupont@exemple.fr",
               ["Contactez-moi à {v}, merci beaucoup !"])
    corpus.add("email", True, "unicode: Chinese letters either side, no spaces", "li.wei@example.cn", ["请发邮件到{v}谢谢"])
    corpus.add("email", True, "unicode: full-width colon before it", "tanaka@example.jp", ["メール：{v} までご連絡ください。"])
    corpus.add("email", True, "unicode: emoji before it", lambda: f"{r.choice(LOCALS)}@{r.choice(DOMAINS)}", ["📧 {v}"])
    corpus.add("email", True, "unicode: NBSP either side", lambda: f"{r.choice(LOCALS)}@{r.choice(DOMAINS)}",
               ["Courriel\u00a0:\u00a0{v}\u00a0(bureau)"])

    corpus.add("email", False, "no domain dot: user@localhost", "user@localhost")
    corpus.add("email", False, "no domain dot: root@localhost", "root@localhost")
    corpus.add("email", False, "no domain dot: a@b", "a@b")
    corpus.add("email", False, "no domain dot: user@intranet", "user@intranet")
    corpus.add("email", False, "no local part: @example.com", "@example.com")
    corpus.add("email", False, "no local part: @example.org", "@example.org")
    corpus.add("email", False, "no domain: jane.doe@", "jane.doe@")
    corpus.add("email", False, "spelled out: name at example dot com", "jane at example dot com")
    corpus.add("email", False, "spelled out: name dot name at example dot org", "jane dot doe at example dot org")
    corpus.add("email", False, "obfuscated: (at)", "jane.doe(at)example.com")
    corpus.add("email", False, "social handle", "@janedoe", ["Ping {v} on the team chat about it.",
                                                            "Follow {v} for updates."])
    corpus.add("email", False, "npm scoped package", "@types/node", ["Install {v} as a dev dependency.",
                                                                    "Is {v} still needed?"])
    corpus.add("email", False, "zero-width space inside", f"jane.doe{ZWSP}@example.com")
    corpus.add("email", False, "zero-width space inside", f"ops@{ZWSP}mail.example.net")
    corpus.add("email", False, "unicode: full-width at sign (not ASCII)", "jane.doe＠example.com")
    corpus.add("email", False, "unicode: full-width at sign (not ASCII)", "li.wei＠example.cn", ["请发邮件到{v}谢谢"])
    corpus.add("email", False, "unicode: Cyrillic а in the domain (homoglyph, not ASCII)", "support@pаypal.com")
    corpus.add("email", False, "unicode: Cyrillic о in the domain (homoglyph, not ASCII)", "admin@gооgle.com")
    corpus.add("email", False, "unicode: Cyrillic і in the domain (homoglyph, not ASCII)", "billing@mіcrosoft.com")


# ip_address

def public_ipv4(rng):
    while True:
        first = rng.randint(1, 223)
        if first not in (10, 100, 127, 169, 172, 192, 198, 203):
            return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def ip_addresses(corpus):
    r = corpus.rng
    for net in ["192.0.2", "198.51.100", "203.0.113", "192.0.2"]:
        corpus.add("ip_address", True, "IPv4, documentation range", lambda: f"{net}.{r.randint(1, 254)}")
    for _ in range(4):
        corpus.add("ip_address", True, "IPv4, public", lambda: public_ipv4(r))
    for _ in range(3):
        corpus.add("ip_address", True, "IPv4, private 10/8",
                   lambda: f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}")
    for _ in range(2):
        corpus.add("ip_address", True, "IPv4, private 172.16/12",
                   lambda: f"172.{r.randint(16, 31)}.{r.randint(0, 255)}.{r.randint(1, 254)}")
    for _ in range(3):
        corpus.add("ip_address", True, "IPv4, private 192.168/16",
                   lambda: f"192.168.{r.randint(0, 255)}.{r.randint(1, 254)}")
    corpus.add("ip_address", True, "IPv4, loopback", "127.0.0.1")
    corpus.add("ip_address", True, "IPv6, full", "2001:0db8:85a3:0000:0000:8a2e:0370:7334")
    corpus.add("ip_address", True, "IPv6, full",
               lambda: "2001:0db8:" + ":".join(f"{r.randrange(65536):04x}" for _ in range(6)))
    corpus.add("ip_address", True, "IPv6, full, no leading zeros",
               lambda: "fd12:" + ":".join(f"{r.randrange(4096, 65536):x}" for _ in range(7)))
    for value in ["2001:db8::1", "2001:db8:85a3::8a2e:370:7334", "fe80::1ff:fe23:4567:890a", "2606:4700:4700::1111",
                  "::1"]:
        corpus.add("ip_address", True, "IPv6, compressed", value)
    corpus.add("ip_address", True, "IPv6, compressed, upper case", "2001:DB8::FF00:42:8329")
    corpus.add("ip_address", True, "unicode: Chinese letters and a full-width comma around it",
               lambda: f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}", ["服务器地址是{v}，请检查防火墙。"])
    corpus.add("ip_address", True, "unicode: guillemets with NBSP around it", lambda: public_ipv4(r),
               ["L’adresse du proxy est «\u00a0{v}\u00a0»."])
    corpus.add("ip_address", True, "sentence full stop after the address", lambda: public_ipv4(r),
               ["The database is at {v}.", "Der Server läuft auf {v}."])
    corpus.add("ip_address", True, "sentence full stop after the address",
               lambda: f"192.168.{r.randint(0, 255)}.{r.randint(1, 254)}", ["The database is at {v}."])

    corpus.add("ip_address", False, "octet over 255: 256.1.1.1", "256.1.1.1")
    corpus.add("ip_address", False, "octets over 255: 999.999.999.999", "999.999.999.999")
    corpus.add("ip_address", False, "octet over 255", "300.168.0.1")
    corpus.add("ip_address", False, "octet over 255 at the end", "192.168.1.256")
    corpus.add("ip_address", False, "three parts: 1.2.3", "1.2.3")
    corpus.add("ip_address", False, "three parts", "10.0.0")
    for value, template in [("3.11.7", "Python {v} is installed."), ("20.11.1", "Bumped node to {v} in the lockfile."),
                            ("1.24.0", "nginx {v} returned a bad gateway"), ("3.0.13", "OpenSSL {v} fixes the issue."),
                            ("5.10.1", "Swift toolchain {v} is required.")]:
        corpus.add("ip_address", False, "version string", value, [template])
    corpus.add("ip_address", False, "five parts: 1.2.3.4.5", "1.2.3.4.5", ["Version string {v} looks odd."])
    corpus.add("ip_address", False, "SNMP OID", "1.3.6.1.4.1", ["SNMP walk of {v} returned nothing."])
    corpus.add("ip_address", False, "IPv6 with a triple colon", "2001:db8:::1")
    corpus.add("ip_address", False, "IPv6 group over four hex digits", "12345::1")
    corpus.add("ip_address", False, "IPv6 with nine groups", "1:2:3:4:5:6:7:8:9")
    corpus.add("ip_address", False, "MAC address", "00:1a:2b:3c:4d:5e", ["Interface MAC {v} is not in the inventory."])
    corpus.add("ip_address", False, "time of day", "12:30:45", ["Backup finished at {v} local time."])
    corpus.add("ip_address", False, "zero-width space inside", f"192.168.{ZWSP}1.20")


# aws_access_key

def base32(rng, n):
    return "".join(rng.choice(BASE32) for _ in range(n))


def aws_access_keys(corpus):
    r = corpus.rng
    for _ in range(20):
        corpus.add("aws_access_key", True, "AKIA and 16 of [A-Z2-7]", lambda: "AKIA" + base32(r, 16))
    for _ in range(8):
        corpus.add("aws_access_key", True, "ASIA (temporary) and 16 of [A-Z2-7]", lambda: "ASIA" + base32(r, 16))
    corpus.add("aws_access_key", True, "AWS documentation example key", "AKIAIOSFODNN7EXAMPLE")
    corpus.add("aws_access_key", True, "unicode: Chinese letters either side, no spaces", lambda: "AKIA" + base32(r, 16),
               ["这个访问密钥{v}还有效吗？"])

    for _ in range(3):
        corpus.add("aws_access_key", False, "15 characters after the prefix", lambda: "AKIA" + base32(r, 15))
        corpus.add("aws_access_key", False, "17 characters after the prefix",
                   lambda: r.choice(["AKIA", "ASIA"]) + base32(r, 17))
    for _ in range(2):
        corpus.add("aws_access_key", False, "lower case", lambda: ("akia" + base32(r, 16)).lower())
    corpus.add("aws_access_key", False, "lower case after the prefix", lambda: "AKIA" + base32(r, 16).lower())

    def with_outside(prefix):
        chars = list(base32(r, 16))
        for i in r.sample(range(16), r.randint(1, 3)):
            chars[i] = r.choice("0189")
        return prefix + "".join(chars)

    for _ in range(4):
        corpus.add("aws_access_key", False, "0, 1, 8 or 9 after the prefix (outside [A-Z2-7])",
                   lambda: with_outside(r.choice(["AKIA", "ASIA"])))
    for prefix, what in [("AIDA", "IAM user id"), ("AROA", "IAM role id")]:
        for _ in range(2):
            corpus.add("aws_access_key", False, f"{prefix}: an {what}, not an access key", lambda: prefix + base32(r, 16),
                       ['{"UserId": "{v}", "Path": "/"}', "Assumed principal {v} has no policy attached.",
                        "The unique id {v} belongs to the deploy role."])
    for _ in range(2):
        corpus.add("aws_access_key", False, "zero-width space inside", lambda: "AKIA" + ZWSP + base32(r, 16))


# aws_secret_key

SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"
NO_KEYWORD = ["Upload id {v} finished.", "INFO cache: stored blob {v}", "Trace reference {v}, attach it to the ticket.",
              '{"etag": "{v}"}', "Référence de transfert : {v}", "Checksum of the nightly build: {v}"]
COMMIT = ["Reverted commit {v} because it broke the build.", "commit {v}\nAuthor: Jane Doe",
          "Please cherry-pick commit {v} onto the release branch.", "Le commit {v} a cassé les tests.",
          "提交 commit {v} 引入了这个问题。"]


def secret(rng, n=40, alphabet=SECRET_ALPHABET):
    while True:
        value = "".join(rng.choice(alphabet) for _ in range(n))
        if not re.fullmatch(r"[0-9a-f]+", value):
            return value


def aws_secret_keys(corpus):
    r = corpus.rng
    for _ in range(20):
        corpus.add("aws_secret_key", True, "40 characters after a secret keyword", lambda: secret(r))
    for _ in range(8):
        corpus.add("aws_secret_key", True, "40 characters (base64 of 30 random bytes) after a secret keyword",
                   lambda: base64.b64encode(random_bytes(r, 30)).decode())
    corpus.add("aws_secret_key", True, "AWS documentation example secret", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    corpus.add("aws_secret_key", True, "unicode: Chinese text and a full-width colon after the keyword",
               lambda: secret(r), ["这是 SecretAccessKey：{v}，请帮我检查权限。"])

    for _ in range(6):
        corpus.add("aws_secret_key", False, "40-character hex git SHA next to the word commit",
                   lambda: "".join(r.choice("0123456789abcdef") for _ in range(40)), COMMIT)
    for _ in range(6):
        corpus.add("aws_secret_key", False, "40 characters with no secret keyword nearby", lambda: secret(r), NO_KEYWORD)
    for _ in range(3):
        corpus.add("aws_secret_key", False, "39 characters after the keyword", lambda: secret(r, 39))
        corpus.add("aws_secret_key", False, "41 characters after the keyword", lambda: secret(r, 41))
    for _ in range(2):
        corpus.add("aws_secret_key", False, "40 characters with _ and - (base64url, outside [A-Za-z0-9/+])",
                   lambda: (lambda s: s[:13] + "_" + s[14:27] + "-" + s[28:])(secret(r)))


# private_key

PEM_PREFIXES = {
    "ed25519 PKCS#8": bytes.fromhex("302e020100300506032b657004220420"),
    "P-256 PKCS#8": bytes.fromhex("308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420"),
    "P-256 SEC1": bytes.fromhex("30770201010420"),
    "ed25519 public": bytes.fromhex("302a300506032b6570032100"),
}
JSON_KEY = ['{"type": "service_account", "project_id": "demo-project", "private_key": "{v}\\n"}',
            '{"private_key": "{v}\\n", "client_id_hidden": true}']


def pem(label, body, width=64):
    lines = [body[i:i + width] for i in range(0, len(body), width)]
    return "\n".join([f"-----BEGIN {label}-----"] + lines + [f"-----END {label}-----"])


def der(rng, prefix, total):
    return prefix + random_bytes(rng, total - len(prefix))


def der_sequence(rng, size):
    return bytes([0x30, 0x82, (size - 4) >> 8, (size - 4) & 0xFF]) + random_bytes(rng, size - 4)


def b64(data):
    return base64.b64encode(data).decode()


def private_keys(corpus):
    r = corpus.rng
    makers = [
        ("PRIVATE KEY", "PKCS#8 ed25519", 5, lambda: pem("PRIVATE KEY", b64(der(r, PEM_PREFIXES["ed25519 PKCS#8"], 48)))),
        ("PRIVATE KEY", "PKCS#8 P-256", 4, lambda: pem("PRIVATE KEY", b64(der(r, PEM_PREFIXES["P-256 PKCS#8"], 138)))),
        ("RSA PRIVATE KEY", "PKCS#1", 5, lambda: pem("RSA PRIVATE KEY", b64(der_sequence(r, r.randint(250, 310))))),
        ("EC PRIVATE KEY", "SEC1 P-256", 5, lambda: pem("EC PRIVATE KEY", b64(der(r, PEM_PREFIXES["P-256 SEC1"], 121)))),
        ("OPENSSH PRIVATE KEY", "openssh-key-v1", 5,
         lambda: pem("OPENSSH PRIVATE KEY", b64(b"openssh-key-v1\x00" + random_bytes(r, r.randint(200, 270))), 70)),
        ("ENCRYPTED PRIVATE KEY", "PKCS#8 encrypted", 2,
         lambda: pem("ENCRYPTED PRIVATE KEY", b64(der_sequence(r, r.randint(140, 200))))),
    ]
    for label, what, count, make in makers:
        for _ in range(count):
            corpus.add("private_key", True, f"{label} block ({what}, random bytes)", make)
    for _ in range(2):
        corpus.add("private_key", True, "PRIVATE KEY block in a JSON string with \\n escapes (service-account file)",
                   lambda: pem("PRIVATE KEY", b64(der(r, PEM_PREFIXES["P-256 PKCS#8"], 138))).replace("\n", "\\n"),
                   JSON_KEY)

    for _ in range(5):
        corpus.add("private_key", False, "PUBLIC KEY block",
                   lambda: pem("PUBLIC KEY", b64(der(r, PEM_PREFIXES["ed25519 public"], 44)
                                                 if r.random() < 0.5 else der_sequence(r, 294))))
    for _ in range(5):
        corpus.add("private_key", False, "CERTIFICATE block",
                   lambda: pem("CERTIFICATE", b64(der_sequence(r, r.randint(240, 300)))))
    for _ in range(2):
        corpus.add("private_key", False, "RSA PUBLIC KEY block", lambda: pem("RSA PUBLIC KEY", b64(der_sequence(r, 270))))
        corpus.add("private_key", False, "CERTIFICATE REQUEST block",
                   lambda: pem("CERTIFICATE REQUEST", b64(der_sequence(r, r.randint(200, 260)))))
    corpus.add("private_key", False, "BEGIN line alone, no body or END line", "-----BEGIN PRIVATE KEY-----",
               ["The file should start with {v} and nothing before it.",
                "Mein Schlüssel beginnt mit {v}, ist das richtig?"])
    corpus.add("private_key", False, "BEGIN line alone, no body or END line", "-----BEGIN OPENSSH PRIVATE KEY-----",
               ["Why does my file start with {v} instead of the RSA header?"])
    for _ in range(2):
        corpus.add("private_key", False, "ssh public key line (not PEM)",
                   lambda: "ssh-ed25519 " + b64(bytes.fromhex("0000000b7373682d65643235353139") + bytes.fromhex("00000020")
                                                + random_bytes(r, 32)),
                   ["Add this to authorized_keys: {v} deploy-laptop", "Öffentlicher Schlüssel: {v}"])


# jwt

ALGS = {"HS256": 32, "HS384": 48, "HS512": 64, "ES256": 64, "ES384": 96, "EdDSA": 64}
NAMES = ["Jane Doe", "Li Wei", "José Álvarez", "Anna Müller", "Tanaka Yuki"]


def compact_json(obj, spaced=False):
    return json.dumps(obj, separators=(", ", ": ") if spaced else (",", ":"), ensure_ascii=False).encode()


def jwt_header(rng, alg):
    kid = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8))
    return rng.choice([{"alg": alg, "typ": "JWT"}, {"typ": "JWT", "alg": alg}, {"alg": alg, "typ": "JWT", "kid": kid},
                       {"alg": alg}])


def jwt_payload(rng):
    iat = rng.randint(1600000000, 1800000000)
    return rng.choice([
        {"sub": str(rng.randint(10 ** 9, 10 ** 10)), "name": rng.choice(NAMES), "iat": iat},
        {"sub": "user_" + base32(rng, 6).lower(), "exp": iat + 3600, "scope": "read write"},
        {"iss": "https://auth.example.com", "aud": "api", "exp": iat + 900, "sub": rng.choice(NAMES)},
        {"sid": base32(rng, 10), "role": rng.choice(["admin", "viewer"]), "iat": iat, "exp": iat + 60},
    ])


def jwt(rng, header=None, payload=None, alg=None):
    alg = alg or rng.choice(list(ALGS))
    header = header if header is not None else b64url(compact_json(jwt_header(rng, alg), rng.random() < 0.2))
    payload = payload if payload is not None else b64url(compact_json(jwt_payload(rng), rng.random() < 0.2))
    return f"{header}.{payload}.{b64url(random_bytes(rng, ALGS[alg]))}"


def jwts(corpus):
    r = corpus.rng
    for alg in ALGS:
        for _ in range(5 if alg in ("HS256", "ES256") else 4):
            corpus.add("jwt", True, f"{alg}, header with alg, JSON payload", lambda: jwt(r, alg=alg))
    corpus.add("jwt", True, "unicode: Chinese letters either side, no spaces", lambda: jwt(r, alg="HS256"),
               ["这个令牌{v}无法验证。"])
    corpus.add("jwt", True, "unicode: NBSP before it", lambda: jwt(r, alg="HS256"), ["Jeton\u00a0:\u00a0{v}"])

    for raw in [b"hello world", b"not a header at all", b"\x89PNG\r\n\x1a\n", b"alg=HS256;typ=JWT"]:
        corpus.add("jwt", False, "header is not JSON", lambda: jwt(r, header=b64url(raw)))
    for _ in range(4):
        corpus.add("jwt", False, "two parts only", lambda: ".".join(jwt(r).split(".")[:2]))
    def overlong_header():
        token = next(t for t in iter(lambda: jwt(r), None) if len(t.split(".")[0]) % 4 == 0)
        return token.replace(".", r.choice("ABCQ") + ".", 1)

    for _ in range(2):
        corpus.add("jwt", False, "eyJ prefix but invalid base64url (header length 4n+1)", overlong_header)
    corpus.add("jwt", False, "eyJ prefix but invalid base64url (= padding inside)",
               lambda: (lambda t: t[:8] + "=" + t[8:])(jwt(r)))
    corpus.add("jwt", False, "eyJ prefix but invalid base64url (! inside)",
               lambda: (lambda t: t[:11] + "!" + t[11:])(jwt(r)))
    for header in [{"typ": "JWT"}, {"kid": "main", "typ": "JWT"}]:
        corpus.add("jwt", False, "header JSON without alg", lambda: jwt(r, header=b64url(compact_json(header))))
    for _ in range(2):
        corpus.add("jwt", False, "header JSON cut short",
                   lambda: jwt(r, header=b64url(compact_json(jwt_header(r, "HS256"))[:-3])))
    for raw in [b"just some bytes", b"\x00\x01\x02\x03payload"]:
        corpus.add("jwt", False, "payload is not JSON", lambda: jwt(r, payload=b64url(raw)))


# ----- main -----------------------------------------------------------------------------------------------------------

def self_check(records):
    """Checks the written corpus: shape, counts, and each checksum as labelled."""
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112") and luhn_ok("79927398713")
    assert iban_valid("DE89 3704 0044 0532 0130 00") and iban_valid("GB82WEST12345698765432")
    assert not iban_valid("GB82WEST12345698765433") and not iban_valid("DE89370400440532013001")
    assert jwt_valid("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl")
    for kind in KINDS:
        rows = [s for s in records if s["kind"] == kind]
        positives = sum(s["label"] for s in rows)
        assert 40 <= len(rows) <= 60 and 0.5 <= positives / len(rows) <= 0.7, (kind, len(rows), positives)
    for s in records:
        assert set(s) == {"kind", "label", "text", "value", "case"} and s["kind"] in KINDS, s
        assert isinstance(s["label"], bool) and s["text"].count(s["value"]) == 1, s
        assert not problems(s), (s, problems(s))
        kind, value, case, label = s["kind"], s["value"], s["case"], s["label"]
        if kind == "payment_card":
            number = re.sub(r"[ \-\n\u200b]", "", value).translate({ord(c): str(i) for i, c in enumerate("０１２３４５６７８９")})
            if label or case.startswith(("Luhn-valid", "zero-width", "unicode")):
                assert number.isdigit() and 13 <= len(number) <= 19 and luhn_ok(number), s
                assert label == bool(re.fullmatch(r"[0-9]+(?:[ -][0-9]+)*", value)), s
            elif case.startswith(("invalid Luhn", "order number")):
                assert 13 <= len(number) <= 19 and not luhn_ok(number), s
            else:
                assert case.startswith("wrong length") and not 13 <= len(number) <= 19 and luhn_ok(number), s
        if kind == "iban":
            compact = value.replace(" ", "").replace(ZWSP, "")
            assert label == iban_valid(value), s
            if label or case == "zero-width space inside":
                assert iban_valid(compact), s
            elif case.startswith("one digit"):
                assert IBAN_LENGTHS[compact[:2]] == len(compact) and not iban_mod97_ok(compact), s
            elif case.startswith("wrong length"):
                assert IBAN_LENGTHS[compact[:2]] != len(compact) and iban_mod97_ok(compact), s
            else:
                assert compact[:2] not in IBAN_LENGTHS and iban_mod97_ok(compact), s
        if kind == "us_ssn":
            assert label == ssn_valid(value), s
        if kind == "jwt":
            assert label == jwt_valid(value), s
        if kind == "aws_access_key":
            assert label == bool(re.fullmatch(r"(?:AKIA|ASIA)[A-Z2-7]{16}", value)), s
        if kind == "aws_secret_key" and case.startswith("40 characters with no"):
            words = s["text"].replace(value, " ").lower()
            assert not any(w in words for w in ["secret", "key", "token", "password", "credential", "aws"]), s
        if kind == "aws_secret_key":
            shaped = bool(re.fullmatch(r"[A-Za-z0-9/+]{40}", value))
            assert label == (shaped and not case.startswith(("40-character hex", "40 characters with no"))), s


def main():
    corpus = Corpus(random.Random(40))
    for make in [emails, phones, payment_cards, ibans, ssns, ip_addresses, aws_access_keys, aws_secret_keys,
                 private_keys, jwts]:
        make(corpus)
    os.makedirs(OUT, exist_ok=True)
    with open(PATH, "w", encoding="utf-8") as out:
        for sample in corpus.samples:
            out.write(json.dumps(sample, ensure_ascii=True) + "\n")
    with open(PATH, encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    self_check(records)
    print(f"{os.path.relpath(PATH, ROOT)}: {len(records)} samples")
    for kind in KINDS:
        rows = [s for s in records if s["kind"] == kind]
        positives = sum(s["label"] for s in rows)
        print(f"  {kind:15} {len(rows):3}  ({positives} genuine, {len(rows) - positives} near misses)")


if __name__ == "__main__":
    main()
