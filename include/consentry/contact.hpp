// contact.hpp: contacts made with a customer (an e-mail, a call, a letter) and the customer's own
// contact preferences. Both are records a store keeps (ContactEvent, ContactPreference and
// ContactPreferenceKind, defined in records.hpp); this header is their name for users. The check
// that keeps reminders from turning into nagging, contact_refusal(), is in decision.hpp.
#pragma once

#include "consentry/records.hpp"
