SELECT clock_timestamp()::text AS sample_time,
       current_setting('max_connections') AS max_connections,
       current_setting('superuser_reserved_connections') AS reserved_connections,
       a.pid::text AS pid,
       a.datname::text AS datname,
       a.usename::text AS usename,
       a.application_name,
       host(a.client_addr) AS client_addr,
       a.backend_type,
       a.state,
       a.backend_start::text AS backend_start,
       a.xact_start::text AS xact_start,
       a.query_start::text AS query_start,
       a.state_change::text AS state_change,
       a.wait_event_type,
       a.wait_event,
       pg_blocking_pids(a.pid)::text AS blocked_by,
       l.locktype AS lock_type,
       l.mode AS lock_mode,
       l.relation::regclass::text AS lock_relation,
       l.waitstart::text AS lock_waitstart,
       left(a.query, 4000) AS query
FROM pg_stat_activity a
LEFT JOIN LATERAL (
    SELECT * FROM pg_locks w WHERE w.pid = a.pid AND NOT w.granted LIMIT 1
) l ON true
WHERE a.pid <> pg_backend_pid()
ORDER BY a.pid
