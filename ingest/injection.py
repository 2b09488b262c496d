"""Instruction-like text in ingested documents: passages are data, so text that addresses the assistant, tells it
to ignore its instructions, claims to be a system note or carries chat-template tokens is held for a steward.

Precision first: every rule needs words that address a model or override its instructions ("ignore previous
instructions", "note to the assistant", "you are now in developer mode", "<|im_start|>", "忽略以上指令",
"你现在是"); legal prose ("shall", "must", "may be ignored", "可忽略不计", "提示标识", "指令性任务") matches none.
Text is matched after NFKC (full-width letters), with format characters (zero-width) removed, a few Cyrillic
and Greek look-alikes mapped to Latin, case folded and spaced-out letters joined; Chinese rules also read the
text with all whitespace removed. What a rule cannot see (paraphrase, other languages, text in images) still
reaches the model; the prompt fences passages and the answer checks still apply (docs/security.md).
"""

import re
import unicodedata
from dataclasses import dataclass

RULES_VERSION = "1"  # part of the loader version: a change re-reads every document once

_LOOK_ALIKES = str.maketrans("аеорсухіјѕԁһӏАВЕКМНОРСТХІЈЅοτνκαιΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
                             "aeopcyxijsdhlabekmhopctxijsotvkaiabezhikmnoptyx")
_SPACED = re.compile(r"\b(?:[a-z] ){3,}[a-z]\b")  # "i g n o r e" -> "ignore"
_WHITESPACE = re.compile(r"[ \t\u00a0\u3000]+")


def _any(*words: str) -> str:
    """A non-capturing group of alternatives (rules read as word lists)."""
    return "(?:" + "|".join(words) + ")"


# A model named as the one addressed: "note to the assistant:", "dear AI,", "if you are an AI reading this";
# not "Assistant Secretary", "note for assistants", "AI developers" or "instructions for AI systems procurement".
_MODEL = (_any(r"ai", r"a\.i\.", "assistant", "chatbot", "chat bot", "bot", "llm", "large language model",
               "language model", "gpt", "chatgpt", "copilot", r"ai (?:model|assistant|system)s?", "chatbots", "llms",
               "language models")
          + r"(?=\s*(?:[:,.;!)\-—]|$|"
          + _any("please", "you", "ignore", "disregard", "answer", "reply", "respond", "must", "should", "only",
                 "do not", "don't", "never", "always", "reading", "processing", "summari[sz]ing") + r"\b))")
_EARLIER = _any("previous", "prior", "preceding", "above", "earlier", "foregoing", "former", "original", "initial",
                "system")
_ORDERS = _any("instructions?", "prompts?", "directives?", "commands?", "programming", "system prompt")
_TURN_WORDS = _any("you", "ignore", "disregard", "forget", "answer", "reply", "respond", "always", "never", "do not",
                   "don't", "from now", "new instructions?", "important", "override",
                   "the (?:user|assistant|answer|model)") + r"\b"
_ZH_MODEL = _any("(?<![a-z])ai", "人工智能", "助手", "模型", "大模型", "语言模型", "語言模型", "机器人", "機器人",
                 "智能体", "智能體", "chatgpt", "gpt")
_ZH_IGNORE = _any("忽略", "忽视", "忽視", "无视", "無視", "不要理会", "不要理會", "不理会", "不理會", "不用理会",
                  "不用理會", "忘记", "忘記", "忘掉", "跳过", "跳過", "抛开", "拋開", "放弃", "放棄")
_ZH_EARLIER = _any("以上", "上面", "上述", "之前", "先前", "此前", "前面", "前述", "原来", "原來", "原有", "原先",
                   "所有", "全部", "一切", "系统", "系統")
_ZH_ORDERS = _any("指令", "指示", "说明", "說明", "提示词", "提示詞", "提示", "规则", "規則", "设定", "設定", "命令",
                  "约束", "約束")
_ZH_NOTES = _any("指令", "指示", "说明", "說明", "提示", "消息", "訊息", "备注", "備註", "话", "話")

_EN_RULES: tuple[tuple[str, str], ...] = (
    ("ignore instructions", r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:(?:all|any|every|of|the|your|my|"
                            rf"these|those)\s+){{0,3}}{_EARLIER}\s+(?:\w+\s+){{0,2}}?{_ORDERS}\b"),
    ("ignore instructions", r"\b(?:ignore|disregard|forget)\s+(?:all|every)\s+(?:of\s+)?(?:your\s+|the\s+|my\s+)?"
                            r"(?:instructions?|prompts?|programming|directives?)\b"),
    ("ignore instructions", r"\b(?:ignore|disregard|forget)\s+(?:everything|all|anything)\s+(?:above|before this|"
                            r"said above|(?:you were|you've been|you have been) told)"),
    ("system note", r"\bsystem\s+(?:prompt|note|notice|message|override|instructions?|directive)\s*[:：\]]"),
    ("system note", r"\b(?:hidden|secret|real|true|new)\s+system\s+(?:instructions?|prompt)\b"),
    ("system note", r"\byour\s+system\s+prompt\b|\b(?:hidden|secret|real|true)\s+instructions?\s*[:：]"),
    ("addressed to the model", r"\b(?:note|message|instructions?|notice|attention|reminder|memo|orders?)\s+"
                               rf"(?:to|for)\s+(?:the\s+|any\s+|all\s+|an\s+|this\s+)?{_MODEL}"),
    ("addressed to the model", rf"(?:^|[\s\"'(\[])(?:dear|hey|hi|hello|attention|attn)\s*,?\s+{_MODEL}"),
    ("addressed to the model", rf"\bif you are (?:an?\s+)?{_MODEL}"),
    ("addressed to the model", r"(?:^|\n)\s*(?:ai|chatbot|llm)\s*[,:]\s*(?:please\s+)?"
                               + _any("ignore", "answer", "reply", "respond", "say", "state", "tell", "output",
                                      "print", "reveal", "cite", "always", "never", "do not", "don't") + r"\b"),
    ("role change", r"\byou are now\s+(?:in\s+)?(?:an?\s+|the\s+|my\s+)?(?:\w+\s+)?"
                    + _any(r"(?:developer|maintenance|debug|god|jailbreak|dan|admin|unrestricted)\s+mode",
                           "unrestricted", "unfiltered", "jailbroken", r"dan\b", r"ai\b", r"assistant\b", "chatbot",
                           "language model", r"bot\b")),
    ("role change", r"\b(?:enter|enable|activate|switch to)\s+(?:god|jailbreak|dan|unrestricted)\s+mode\b"),
    ("role change", r"\b(?:pretend|act|behave|respond)\s+(?:to be|you are|as if you (?:are|were)|as)\s+(?:an?\s+)?"
                    r"(?:unrestricted|unfiltered|jailbroken|different|new|evil)\s+(?:ai|assistant|model|bot)\b"),
    ("role change", r"\bfrom now on,?\s+you\s+(?:are|will be|act as)\s+(?:an?\s+|the\s+)?(?:\w+\s+)?"
                    r"(?:ai|assistant|chatbot|bot|model)\b"),
    ("answer dictated", r"\b(?:do not|don't|never)\s+(?:mention|reveal|disclose|repeat|acknowledge)\s+"
                        r"(?:this|these|the above)\s+(?:instructions?|prompt|system prompt)\b"),
    ("answer dictated", r"\b(?:cite|citing|quote)\s+(?:only\s+)?(?:passages?|sources?)?\s*\[\d{1,2}\]"),
    ("role marker", rf"(?:^|\n)\s*\[?(?:system|assistant)\]?\s*[:：]\s*{_TURN_WORDS}"),
    ("role marker", r"(?:^|\n)\s*#{2,6}\s*(?:instruction|response)\s*[:：]"),
    ("chat template", r"<\|[a-z_]{2,24}\|>|\[/?inst\]|<</?sys>>|<(?:start|end)_of_turn>|<\|im_(?:start|end)"),
    ("fence", r"<\s*/?\s*passage\b"),
)

_ZH_RULES: tuple[tuple[str, str], ...] = (
    ("ignore instructions", rf"{_ZH_IGNORE}(?:你|掉)?{_ZH_EARLIER}的?(?:所有|全部|一切)?的?{_ZH_ORDERS}"),
    ("ignore instructions", r"(?:忽略|无视|無視)(?:掉)?(?:所有|全部|一切)?的?(?:指令|提示词|提示詞)"),
    ("system note", r"系[统統]提示[词詞]|系[统統](?:提示|指令|消息|通知|说明|說明)[:：]"),
    ("system note", r"(?:隐藏|隱藏|秘密|真正)的?(?:指令|提示[词詞])|新的?(?:指令|提示[词詞])[:：]"),
    ("addressed to the model", rf"{_ZH_MODEL}(?:请|請)?注意|(?<![\u4e00-\u9fff])致{_ZH_MODEL}"),
    ("addressed to the model", rf"(?:给|給){_ZH_MODEL}的{_ZH_NOTES}|如果你是(?:一个|一個)?{_ZH_MODEL}"),
    ("role change", r"你(?:现在|現在)(?:是(?!否)|扮演|作为|作為|只能)|你的新(?:身份|角色|任务|任務|指令)"),
    ("role change", r"(?:从现在|從現在)(?:起|开始|開始)[,，]?你(?:是|必须|必須|只能|将|將)"),
    ("role change", r"(?:请|請)?你?扮演(?:一个|一個|一名)?(?:ai|人工智能|助手|模型|管理员|管理員|开发者|開發者)"),
    ("role change", r"(?:进入|進入|切换到|切換到|开启|開啟)(?:开发者|開發者|越狱|越獄|无限制|無限制)模式"),
    ("answer dictated", r"(?<![申邀提声聲])(?:请|請)(?:直接)?(?:回答|声称|聲稱)(?!以下|下列|下面|如下|问题|問題)"),
    ("answer dictated", r"(?:回答|回复|回覆|答复|答覆)(?:时|時)(?:请|請|一律|务必|務必)?(?:说|說|声称|聲稱)"),
    ("answer dictated", r"(?:你|您)(?:必须|必須|只能|一定要|务必|務必)(?:回答|回复|回覆|声称|聲稱|输出|輸出)"),
    ("answer dictated", r"引用.{0,6}\[\d{1,2}\]"),
)
_EN = tuple((name, re.compile(pattern)) for name, pattern in _EN_RULES)
_ZH = tuple((name, re.compile(pattern)) for name, pattern in _ZH_RULES)
RULES: tuple[str, ...] = tuple(dict.fromkeys(name for name, _ in (*_EN_RULES, *_ZH_RULES)))


@dataclass(frozen=True)
class Finding:
    """The first rule a text matched and the words that matched it (as normalised for matching)."""

    rule: str
    match: str


def normalise(text: str) -> str:
    """Text as the rules read it: NFKC, zero-width and other format characters removed, look-alike letters
    mapped, case folded, spaced-out letters joined, runs of spaces (not line breaks) made one."""
    folded = unicodedata.normalize("NFKC", text)
    folded = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    folded = folded.translate(_LOOK_ALIKES).casefold()
    folded = _WHITESPACE.sub(" ", folded)
    return _SPACED.sub(lambda m: m.group(0).replace(" ", ""), folded)


def find_instruction(text: str) -> Finding | None:
    """The first instruction-like phrase in TEXT, or None."""
    view = normalise(text)
    for name, pattern in _EN:
        if found := pattern.search(view):
            return Finding(name, found.group(0).strip())
    compact = re.sub(r"\s+", "", view)
    for name, pattern in _ZH:
        if found := pattern.search(compact):
            return Finding(name, found.group(0))
    return None


_TEMPLATE_TOKEN = re.compile(r"<\|(?=[A-Za-z_]{2,24}\|>)|\[(?=/?INST\])|<<(?=/?SYS>>)|<(?=(?:start|end)_of_turn>)"
                             r"|[<＜﹤](?=\s*/?\s*passage)", re.I)


def defuse(text: str) -> str:
    """Text safe to quote inside a prompt: chat-template tokens and passage tags lose their opening bracket's
    meaning (a look-alike `‹` takes its place), so a tokenizer reading special tokens cannot see a turn start
    and a passage cannot close its own fence."""
    return _TEMPLATE_TOKEN.sub("‹", text)
