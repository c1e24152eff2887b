-- What a 志愿服务记录证明 names of its issuer besides the community's name and desk phone: the
-- person in charge (负责人), the handler (经办人) and the code in certificate numbers
-- (LW-<code>-2026-000123). Empty until an admin fills them in; the code falls back to the id.
ALTER TABLE identity.communities
    ADD COLUMN person_in_charge text NOT NULL DEFAULT '',
    ADD COLUMN certificate_handler text NOT NULL DEFAULT '',
    ADD COLUMN certificate_code text NOT NULL DEFAULT '';
UPDATE identity.communities SET certificate_code = 'SF' WHERE id = 'lingwu-shuofang';
UPDATE identity.communities SET certificate_code = 'XY' WHERE id = 'lingwu-xiyuan';
UPDATE identity.communities SET certificate_code = 'DT' WHERE id = 'lingwu-dongta';
