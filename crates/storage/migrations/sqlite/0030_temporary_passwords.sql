-- A console password set by someone else (an operator's reset or chosen password, the first
-- start's generated one) is temporary: at the next console sign-in its user must choose their
-- own before anything else. The user's own change clears the flag.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;

-- Passwords handed out before this migration are temporary too, read from the journal: a
-- user whose last password set by someone else (`user.password`, `user.bootstrap_password`)
-- came after their last own change (`console.password_change`). The demo's passwords
-- (`demo.password`) stay as they are.
UPDATE users SET must_change_password = 1
WHERE password_hash IS NOT NULL AND id IN (
    SELECT subject FROM journal
    WHERE operation IN ('user.password', 'user.bootstrap_password', 'console.password_change')
      AND subject IS NOT NULL
    GROUP BY subject
    HAVING MAX(CASE WHEN operation = 'console.password_change' THEN seq ELSE 0 END)
         < MAX(CASE WHEN operation <> 'console.password_change' THEN seq ELSE 0 END)
);
