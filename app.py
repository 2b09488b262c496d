"""The web app: `build_ui(build_assistant(Settings()))`. No business logic lives here."""

from typing import Any

from assistant.config import Settings
from assistant.services import Services


def build_assistant(settings: Settings) -> Services:
    return Services(settings)


def build_ui(assistant: Services) -> Any:
    """A minimal Gradio skeleton over document search; the full app (ask, datasets, SQL) comes later."""
    import gradio as gr

    def search(query: str) -> str:
        if not query.strip():
            return "Type a question or keywords."
        passages = assistant.search_passages(query, k=5, role="citizen")
        if not passages:
            return "No passages found."
        return "\n\n".join(
            f"**[{n}] {p.title}** {p.heading_path} {p.article}\n\n> {p.text[:500]}\n\n`{p.source}`"
            for n, p in enumerate(passages, 1)
        )

    with gr.Blocks(title="GovData Assistant") as ui:
        gr.Markdown("# GovData Assistant\nSearch the ingested laws, policies and guides (public documents).")
        query = gr.Textbox(label="Search / 搜索", placeholder="政府信息公开申请的答复期限")
        output = gr.Markdown()
        query.submit(search, query, output)
        gr.Button("Search / 搜索").click(search, query, output)
    return ui


if __name__ == "__main__":
    build_ui(build_assistant(Settings())).launch()
