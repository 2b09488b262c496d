"""One module per use-case family; `assistant.services.Services` joins them into the one door every shell uses."""
