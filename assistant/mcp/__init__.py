"""The MCP shell (issue 31): the use cases as MCP tools and resources, for AI agents. `tools` defines each tool once
(typed input schema, description, the Services method it calls); `server` serves them over stdio (`govdata mcp`,
one role given at start) and over streamable HTTP at /mcp (`govdata serve`, the role of the bearer token)."""
