import PostgresNIO

/// The tables swift-tune keeps in a PostgreSQL database, created and upgraded by numbered migrations.
///
/// Migrations run in order, each in the transaction that records it in `tune_schema`, under an advisory lock so that
/// workers starting at the same moment do not race to create the tables. A database whose schema is newer than this
/// swift-tune knows is refused.
enum PostgresSchema {
    /// Each migration's statements (the extended protocol takes one statement per query).
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE tune_studies (
                id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, direction text NOT NULL,
                next_number integer NOT NULL DEFAULT 0, created_at timestamptz NOT NULL DEFAULT now())
            """,
            """
            CREATE TABLE tune_study_attributes (
                study bigint NOT NULL REFERENCES tune_studies(id) ON DELETE CASCADE, key text NOT NULL,
                value text NOT NULL, PRIMARY KEY (study, key))
            """,
            // heartbeat: seconds since 1970 on the server's clock. claim: the token of the process running the trial.
            // op: the call that created or claimed it last, so that a call retried after a lost answer is not done
            // twice.
            """
            CREATE TABLE tune_trials (
                study bigint NOT NULL REFERENCES tune_studies(id) ON DELETE CASCADE, number integer NOT NULL,
                state text NOT NULL, value float8, failure text, heartbeat float8 NOT NULL, claim bigint, op uuid,
                PRIMARY KEY (study, number))
            """,
            "CREATE INDEX tune_trials_open ON tune_trials (study, number) WHERE state IN ('waiting', 'running')",
            """
            CREATE TABLE tune_parameters (
                study bigint NOT NULL, trial integer NOT NULL, name text NOT NULL, value text NOT NULL,
                distribution text NOT NULL, PRIMARY KEY (study, trial, name),
                FOREIGN KEY (study, trial) REFERENCES tune_trials ON DELETE CASCADE)
            """,
            """
            CREATE TABLE tune_intermediate (
                study bigint NOT NULL, trial integer NOT NULL, step integer NOT NULL, value float8 NOT NULL,
                PRIMARY KEY (study, trial, step), FOREIGN KEY (study, trial) REFERENCES tune_trials ON DELETE CASCADE)
            """,
            """
            CREATE TABLE tune_attributes (
                study bigint NOT NULL, trial integer NOT NULL, key text NOT NULL, value text NOT NULL,
                PRIMARY KEY (study, trial, key), FOREIGN KEY (study, trial) REFERENCES tune_trials ON DELETE CASCADE)
            """,
            """
            CREATE TABLE tune_artifacts (
                study bigint NOT NULL REFERENCES tune_studies(id) ON DELETE CASCADE, name text NOT NULL,
                trial integer NOT NULL, value float8, data bytea NOT NULL, PRIMARY KEY (study, name))
            """
        ]
    ]

    /// The schema version this swift-tune writes.
    static var version: Int { migrations.count }

    /// Brings the database's tables up to `version`.
    static func migrate(_ session: Session) throws {
        try session.transaction {
            // Any constant: every swift-tune process takes the same lock before looking at the schema.
            try session.query("SELECT pg_advisory_xact_lock(7315201)")
            try session.query("CREATE TABLE IF NOT EXISTS tune_schema (version integer PRIMARY KEY)")
            let found = try session.query("SELECT coalesce(max(version), 0) FROM tune_schema")
            var current = 0
            for row in found { current = try row.decode(Int.self) }
            if current > version {
                throw PostgresFailure(
                    message: "the database was written by a newer swift-tune (schema \(current), this one knows up to "
                        + "\(version)): upgrade swift-tune")
            }
            for (index, statements) in migrations.enumerated() where index + 1 > current {
                for statement in statements { try session.query(PostgresQuery(unsafeSQL: statement)) }
                try session.query("INSERT INTO tune_schema (version) VALUES (\(index + 1))")
            }
        }
    }
}
