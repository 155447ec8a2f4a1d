"""Generate the quickstart dataset: support messages routed to Northwind Cloud's teams.

The routing policy below is the company's own, so a model cannot know it in
advance; only the gold labels (and the feedback that names them) reveal it:

1. Anyone who says they are on the Enterprise plan goes to `key_accounts`, whatever they ask.
2. Requests to export or delete personal data go to `legal`.
3. Problems inside the iOS or Android app go to `mobile`, whatever the topic.
4. Log-in, password, two-factor and SSO problems go to `identity`.
5. Charges, invoices, refunds and payment details go to `billing`.
6. Everything else goes to `general`.

Run `python tasks/support_routing/generate.py` to rewrite the JSONL files
(deterministic: the same files every time).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

TOPICS: dict[str, list[str]] = {
    "identity": [
        "I can't log in, it keeps saying my password is wrong.",
        "My two-factor codes stopped arriving.",
        "My account got locked after too many attempts.",
        "How do I reset my password?",
        "Single sign-on with our Okta tenant stopped working this morning.",
        "The login page just spins forever after I type my email.",
    ],
    "billing": [
        "I was charged twice this month.",
        "Can I get a refund for last month? We didn't use the service.",
        "My invoice shows the wrong VAT number.",
        "Why did my bill go up by 30 dollars?",
        "Please change the credit card we pay with.",
        "I need a copy of the March invoice for our accountant.",
    ],
    "legal": [
        "Please delete all the personal data you hold about me.",
        "I want a copy of all the personal data you store on me.",
        "How do I export everything you keep about me? It's my right under GDPR.",
        "Remove my personal information from your systems, please.",
        "I'm closing my account and want my personal data erased.",
    ],
    "general": [
        "Do you have a dark mode?",
        "Could you add a calendar integration?",
        "Where can I find your API documentation?",
        "Just wanted to say the new dashboard looks great.",
        "What are your support hours on weekends?",
        "Is there a way to share a folder with a guest user?",
    ],
}
ENTERPRISE = [
    "We're on the Enterprise plan. ",
    "As an Enterprise plan customer, ",
    "(Enterprise plan, account 88231) ",
]
MOBILE = [
    " This happens in the Android app.",
    " I'm using the iPhone app.",
    " It only happens in your iOS app.",
    " I'm on the mobile app for Android.",
]
OPENERS = ["", "Hi, ", "Hello team, ", "Good morning. ", "Hey there! "]
LABELS = ["billing", "identity", "mobile", "key_accounts", "legal", "general"]
RATIONALE = {
    "key_accounts": "Enterprise plan customers always go to key_accounts, whatever they ask.",
    "legal": "Requests to export, copy or delete personal data go to legal.",
    "mobile": "Problems that happen in the iOS or Android app go to mobile, whatever the topic.",
    "identity": "Log-in, password, two-factor and single sign-on problems go to identity.",
    "billing": "Charges, invoices, refunds and payment details go to billing.",
    "general": "Questions and feedback that fit no other team go to general.",
}
"""The policy line behind each label: what a support lead would write in a routing log.
The classify task shows it in its feedback, as a reference solution is shown for math."""


def route(topic: str, enterprise: bool, mobile: bool) -> str:
    """The policy: the first rule that applies wins."""
    if enterprise:
        return "key_accounts"
    if topic == "legal":
        return "legal"
    if mobile:
        return "mobile"
    return topic


def message(rng: random.Random, topic: str, enterprise: bool, mobile: bool) -> str:
    body = rng.choice(TOPICS[topic])
    if enterprise:
        lead = rng.choice(ENTERPRISE)
        body = lead + (body[0].lower() + body[1:] if lead.endswith(", ") else body)
    text = rng.choice(OPENERS) + body
    if mobile:
        text += rng.choice(MOBILE)
    return text


def generate(seed: int = 0) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    # a mix in which every rule of the policy matters
    plan = (["plain"] * 40) + (["enterprise"] * 18) + (["mobile"] * 24) + (["both"] * 8)
    rng.shuffle(plan)
    for kind in plan:
        for _ in range(50):
            topic = rng.choice(list(TOPICS))
            enterprise = kind in ("enterprise", "both")
            mobile = kind in ("mobile", "both") and topic != "legal"
            text = message(rng, topic, enterprise, mobile)
            if text not in seen:
                seen.add(text)
                label = route(topic, enterprise, mobile)
                rows.append({"input": text, "answer": label, "rationale": RATIONALE[label]})
                break
    return rows


def main() -> None:
    rows = generate()
    here = Path(__file__).parent
    splits = {"train": rows[:30], "val": rows[30:50], "test": rows[50:90]}
    for name, part in splits.items():
        with open(here / f"{name}.jsonl", "w", encoding="utf-8") as out:
            for i, row in enumerate(part):
                out.write(json.dumps({"id": f"{name}-{i:02d}", **row}) + "\n")
    (here / "labels.json").write_text(json.dumps(LABELS) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
