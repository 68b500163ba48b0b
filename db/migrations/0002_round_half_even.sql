-- Banker's rounding (half to even) for money: 2.345 -> 2.34, 2.355 -> 2.36, -2.345 -> -2.34.
-- PostgreSQL's round(numeric) rounds half away from zero; billing event amounts, invoice lines
-- and per-line tax use this instead (see db/src/lifecycle/money.ts).
CREATE OR REPLACE FUNCTION pshub_round_half_even(v numeric, places integer DEFAULT 2) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE
    WHEN abs(v * power(10::numeric, places) - trunc(v * power(10::numeric, places))) = 0.5
      THEN round((trunc(v * power(10::numeric, places)) + mod(trunc(v * power(10::numeric, places)), 2))
        / power(10::numeric, places), places)
    ELSE round(v, places)
  END
$$;
