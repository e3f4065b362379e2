"""Sensitive data (DLP, issue 12 §8) on messages: the detectors are ``bsp.sensitive_data``
(validated SSNs, ITINs, cards, routing numbers; PHI hints); this package holds what is the
agency's and what is done with a finding:

- ``models``: the agency's own rules (``SensitiveDataRule``), its policy (``DlpPolicy``, one
  row per agency, defaults without one), the findings beside a message (``DlpFlag``: kinds
  and offsets, never values) and the automatic reply's cooldown (``DlpAutoReply``);
- ``policy``: the policy as the hot paths read it and ``Engine`` (policy + compiled rules,
  cached by rules version) that scans a message's readable strings;
- ``outbound``: the send path's check (``messaging.policy.check_sensitive_data``), the record
  of a justified or flagged send, the campaigns' per-chunk ``Screen``;
- ``inbound``: flags on new inbound rows and the automatic reply (webhook worker);
- ``masking``: what the inbox shows (``Masker``) and the list snippet (``mask_preview``);
- ``services``: rules, the policy and the audited reveal; ``views``/``forms``: the policy
  page (``/records/dlp/``); ``scan``: a one-off scan of a text with the agency's rules.

The stored record is never altered by DLP: masking is for views and copies.
"""
