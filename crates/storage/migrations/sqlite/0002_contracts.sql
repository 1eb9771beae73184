-- Contracts, options, packet share groups, devices and what surrounds them (R1–R13).
-- Civil dates are TEXT YYYY-MM-DD (Japan time, D1); effective-dated values keep one row per
-- change so any day can be shown "as of".

CREATE TABLE contracts (
    id                 TEXT PRIMARY KEY,
    contractor_id      TEXT NOT NULL REFERENCES contractors (id),
    kind               TEXT NOT NULL,
    device_type        TEXT,
    management_id      TEXT REFERENCES contracts (id),
    applied_on         TEXT NOT NULL,
    accepted_on        TEXT NOT NULL,
    billing_start      TEXT,
    end_on             TEXT,
    end_reason         TEXT,
    notice_arrived_on  TEXT,
    requested_end_on   TEXT,
    end_exempt         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX contracts_contractor ON contracts (contractor_id);
CREATE INDEX contracts_management ON contracts (management_id);

CREATE TABLE contract_items (
    contract_id     TEXT NOT NULL REFERENCES contracts (id),
    effective_from  TEXT NOT NULL,
    item            TEXT NOT NULL,
    PRIMARY KEY (contract_id, effective_from)
);

CREATE TABLE options (
    id                 TEXT PRIMARY KEY,
    contract_id        TEXT NOT NULL REFERENCES contracts (id),
    contractor_id      TEXT NOT NULL REFERENCES contractors (id),
    kind               TEXT NOT NULL,
    applied_on         TEXT NOT NULL,
    accepted_on        TEXT NOT NULL,
    install_address    TEXT,
    end_on             TEXT,
    end_reason         TEXT,
    notice_arrived_on  TEXT,
    requested_end_on   TEXT,
    end_exempt         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX options_contract ON options (contract_id);
CREATE INDEX options_contractor ON options (contractor_id);

CREATE TABLE option_usage_types (
    option_id       TEXT NOT NULL REFERENCES options (id),
    effective_from  TEXT NOT NULL,
    usage_type      TEXT NOT NULL,
    PRIMARY KEY (option_id, effective_from)
);

CREATE TABLE option_network_types (
    option_id       TEXT NOT NULL REFERENCES options (id),
    effective_from  TEXT NOT NULL,
    network_type    TEXT NOT NULL,
    PRIMARY KEY (option_id, effective_from)
);

CREATE TABLE packet_share_groups (
    id                 TEXT PRIMARY KEY,
    contractor_id      TEXT NOT NULL REFERENCES contractors (id),
    applied_on         TEXT NOT NULL,
    accepted_on        TEXT NOT NULL,
    end_on             TEXT,
    end_reason         TEXT,
    notice_arrived_on  TEXT,
    requested_end_on   TEXT,
    end_exempt         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX packet_share_groups_contractor ON packet_share_groups (contractor_id);

CREATE TABLE group_packs (
    group_id        TEXT NOT NULL REFERENCES packet_share_groups (id),
    effective_from  TEXT NOT NULL,
    pack_gb         BIGINT NOT NULL,
    PRIMARY KEY (group_id, effective_from)
);

CREATE TABLE group_members (
    group_id   TEXT NOT NULL REFERENCES packet_share_groups (id),
    option_id  TEXT NOT NULL REFERENCES options (id),
    from_on    TEXT NOT NULL,
    until_on   TEXT,
    PRIMARY KEY (group_id, option_id, from_on)
);
CREATE INDEX group_members_option ON group_members (option_id);

CREATE TABLE devices (
    serial         TEXT PRIMARY KEY,
    device_type    TEXT NOT NULL,
    contractor_id  TEXT REFERENCES contractors (id),
    return_due     TEXT,
    returned_on    TEXT,
    lost_on        TEXT,
    found_on       TEXT
);
CREATE INDEX devices_contractor ON devices (contractor_id);
CREATE INDEX devices_return_due ON devices (return_due);

CREATE TABLE device_assignments (
    serial       TEXT NOT NULL REFERENCES devices (serial),
    contract_id  TEXT NOT NULL REFERENCES contracts (id),
    from_on      TEXT NOT NULL,
    until_on     TEXT,
    PRIMARY KEY (serial, from_on)
);
CREATE INDEX device_assignments_contract ON device_assignments (contract_id);

CREATE TABLE charge_events (
    id             TEXT PRIMARY KEY,
    contract_id    TEXT NOT NULL REFERENCES contracts (id),
    contractor_id  TEXT NOT NULL REFERENCES contractors (id),
    kind           TEXT NOT NULL,
    occurred_on    TEXT NOT NULL,
    device_type    TEXT,
    note           TEXT
);
CREATE INDEX charge_events_contract ON charge_events (contract_id);
CREATE INDEX charge_events_month ON charge_events (occurred_on);

CREATE TABLE designated_services (
    id             TEXT PRIMARY KEY,
    contractor_id  TEXT NOT NULL REFERENCES contractors (id),
    reference      TEXT NOT NULL,
    registered_on  TEXT NOT NULL,
    ended_on       TEXT
);
CREATE INDEX designated_services_contractor ON designated_services (contractor_id);

CREATE TABLE designations (
    id                      TEXT PRIMARY KEY,
    rider_contractor_id     TEXT NOT NULL REFERENCES contractors (id),
    management_contract_id  TEXT NOT NULL REFERENCES contracts (id),
    requested_on            TEXT NOT NULL,
    consented_on            TEXT,
    withdrawn_on            TEXT
);
CREATE INDEX designations_rider ON designations (rider_contractor_id);
CREATE INDEX designations_management ON designations (management_contract_id);

CREATE TABLE invoice_redirects (
    id                      TEXT PRIMARY KEY,
    management_contract_id  TEXT NOT NULL REFERENCES contracts (id),
    target_contractor_id    TEXT NOT NULL REFERENCES contractors (id),
    requested_on            TEXT NOT NULL,
    consented_on            TEXT,
    approved_on             TEXT,
    ended_on                TEXT
);
CREATE INDEX invoice_redirects_management ON invoice_redirects (management_contract_id);
CREATE INDEX invoice_redirects_target ON invoice_redirects (target_contractor_id);

CREATE TABLE requests (
    id             TEXT PRIMARY KEY,
    contractor_id  TEXT NOT NULL REFERENCES contractors (id),
    kind           TEXT NOT NULL,
    payload        TEXT NOT NULL,
    submitted_on   TEXT NOT NULL,
    submitted_by   TEXT NOT NULL,
    status         TEXT NOT NULL,
    decided_on     TEXT,
    decided_by     TEXT,
    decision       TEXT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX requests_contractor ON requests (contractor_id, status);
CREATE INDEX requests_status ON requests (status, id);
