-- Residents who log in by the official account's web authorisation (snsapi_base): its OpenID,
-- linked once to the resident whose phone an SMS code proved; later visits need no code.
CREATE TABLE identity.wechat_accounts (
    app_id      text NOT NULL,
    openid      text NOT NULL,
    resident_id uuid NOT NULL REFERENCES identity.residents (id),
    linked_at   timestamptz NOT NULL,
    PRIMARY KEY (app_id, openid)
);
CREATE INDEX wechat_accounts_resident ON identity.wechat_accounts (resident_id);
