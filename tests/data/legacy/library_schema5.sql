BEGIN TRANSACTION;
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO "audit_log" VALUES(1,1.79594991931551647189e+09,'cli','ingest','document:1','{"file": "乡村振兴讲义.docx", "sha256": "7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed", "version": 1, "_name": "乡村振兴讲义"}');
INSERT INTO "audit_log" VALUES(2,1.79594991931764316555e+09,'cli','ingest','document:2','{"file": "待删除的材料.docx", "sha256": "3fc4ccfe745870e2c0d99f71f30ff0656c8dedd41cc1d7d3d376b0dbe685e2f3", "version": 1, "_name": "待删除的材料"}');
INSERT INTO "audit_log" VALUES(3,1.79594991931825184823e+09,'fixture','trash','document:2','{"_name": "待删除的材料"}');
INSERT INTO "audit_log" VALUES(4,1.79594991931869292262e+09,'fixture','purge','document:2','{"title": "待删除的材料", "_name": "待删除的材料"}');
INSERT INTO "audit_log" VALUES(5,1.79594991936884498598e+09,'fixture','user_add','user:bianji','{"role": "editor"}');
CREATE TABLE document_audiences (
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    audience TEXT NOT NULL,
    PRIMARY KEY (document_id, audience)
);
INSERT INTO "document_audiences" VALUES(1,'rural');
CREATE TABLE document_topics (
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    score REAL NOT NULL,
    origin TEXT NOT NULL,
    PRIMARY KEY (document_id, topic)
);
INSERT INTO "document_topics" VALUES(1,'rural-revitalization',0.8,'auto');
CREATE TABLE "documents" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    title_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    date TEXT,
    source TEXT,
    current_version_id INTEGER,
    topics_manual INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
INSERT INTO "documents" VALUES(1,'乡村振兴讲义','乡村振兴讲义','handout','active',NULL,NULL,1,0,1.79594991931214785574e+09,1.79594991931214785574e+09);
CREATE TABLE "drafts" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor TEXT NOT NULL,
    created_at REAL NOT NULL,
    filename TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    payload TEXT NOT NULL
);
INSERT INTO "drafts" VALUES(1,'bianji',1.79594991932211089135e+09,'草稿.docx','7743ce348d9284d677a185f33295b92266cc435a5b5f775029b300066d26693a','{"title": "草稿"}');
CREATE TABLE headings (
    id INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    level INTEGER NOT NULL,
    text TEXT NOT NULL,
    page INTEGER
);
INSERT INTO "headings" VALUES(1,1,0,1,'一、总论',1);
CREATE TABLE index_queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL
);
INSERT INTO "index_queue" VALUES(1,'p:1');
INSERT INTO "index_queue" VALUES(2,'p:2');
INSERT INTO "index_queue" VALUES(3,'q:1');
INSERT INTO "index_queue" VALUES(4,'p:3');
INSERT INTO "index_queue" VALUES(5,'q:2');
INSERT INTO "index_queue" VALUES(6,'p:3');
INSERT INTO "index_queue" VALUES(7,'q:2');
INSERT INTO "index_queue" VALUES(8,'p:3');
INSERT INTO "index_queue" VALUES(9,'q:2');
CREATE TABLE occurrences (
    id INTEGER PRIMARY KEY,
    quote_id INTEGER NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,
    version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    page INTEGER,
    theme TEXT,
    source TEXT,
    date TEXT
);
INSERT INTO "occurrences" VALUES(1,1,1,0,NULL,NULL,'在浙江安吉余村考察时','2005-08-15');
CREATE TABLE "passages" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL DEFAULT 'passage',
    text TEXT NOT NULL,
    question TEXT,
    heading_path TEXT NOT NULL DEFAULT '[]',
    page INTEGER
);
INSERT INTO "passages" VALUES(1,1,0,'passage','第一段内容：绿水青山就是金山银山。',NULL,'["一、总论"]',1);
INSERT INTO "passages" VALUES(2,1,1,'passage','第二段内容',NULL,'["一、总论"]',1);
CREATE TABLE quote_topics (
    quote_id INTEGER NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    score REAL NOT NULL,
    origin TEXT NOT NULL,
    PRIMARY KEY (quote_id, topic)
);
CREATE TABLE "quotes" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    text_key TEXT NOT NULL,
    source TEXT,
    date TEXT,
    speaker TEXT,
    theme TEXT,
    note TEXT,
    topics_manual INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
INSERT INTO "quotes" VALUES(1,'绿水青山就是金山银山','绿水青山就是金山银山','在浙江安吉余村考察时','2005-08-15',NULL,NULL,NULL,0,1.79594991931214785574e+09,1.79594991931214785574e+09);
CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL);
INSERT INTO "schema_migrations" VALUES(1,'initial schema',1.79594991930333495143e+09);
INSERT INTO "schema_migrations" VALUES(2,'index outbox',1.7959499193038213253e+09);
INSERT INTO "schema_migrations" VALUES(3,'users and upload drafts',1.79594991930424118043e+09);
INSERT INTO "schema_migrations" VALUES(4,'session generation',1.79594991930463194844e+09);
INSERT INTO "schema_migrations" VALUES(5,'ids are never reused',1.79594991931039595599e+09);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO "settings" VALUES('topic_model','{}');
CREATE TABLE tombstones (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record TEXT NOT NULL,
    title TEXT,
    at REAL NOT NULL,
    actor TEXT
);
INSERT INTO "tombstones" VALUES(1,'document:2','待删除的材料',1.79594991931869292262e+09,'fixture');
INSERT INTO "tombstones" VALUES(2,'passage:3','待删除的材料',1.79594991931869292262e+09,'fixture');
INSERT INTO "tombstones" VALUES(3,'quote:2','民生无小事',1.79594991931869292262e+09,'fixture');
CREATE TABLE "users" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'editor',
    active INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    last_failed_at REAL,
    session_gen INTEGER NOT NULL DEFAULT 0,
    session_end TEXT
);
INSERT INTO "users" VALUES(1,'bianji','scrypt$16384$8$1$sG+uFBuNjgi9QsxCoLqiXw==$pxxlEVYKWHuHO2s/8yj7RITNw0wZy93+cDqKr6HeVog=','editor',1,1.79594991936840391163e+09,0,NULL,0,NULL);
CREATE TABLE "versions" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    filename TEXT NOT NULL,
    format TEXT NOT NULL,
    size INTEGER NOT NULL,
    pages INTEGER,
    chars INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    warnings TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL,
    UNIQUE (document_id, number)
);
INSERT INTO "versions" VALUES(1,1,1,'7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed','乡村振兴讲义.docx','docx',3,NULL,0,'ok','[]',1.79594991931214785574e+09);
CREATE INDEX ix_headings_version ON headings(version_id, seq);
CREATE INDEX ix_occurrences_quote ON occurrences(quote_id);
CREATE INDEX ix_occurrences_version ON occurrences(version_id);
CREATE INDEX ix_documents_title_key ON documents(title_key);
CREATE INDEX ix_documents_status ON documents(status);
CREATE UNIQUE INDEX ux_versions_sha256 ON versions(sha256);
CREATE INDEX ix_passages_version ON passages(version_id, seq);
CREATE UNIQUE INDEX ux_quotes_text_key ON quotes(text_key);
CREATE INDEX ix_tombstones_record ON tombstones(record, at);
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('documents',2);
INSERT INTO "sqlite_sequence" VALUES('versions',2);
INSERT INTO "sqlite_sequence" VALUES('passages',3);
INSERT INTO "sqlite_sequence" VALUES('quotes',2);
INSERT INTO "sqlite_sequence" VALUES('users',1);
INSERT INTO "sqlite_sequence" VALUES('drafts',1);
INSERT INTO "sqlite_sequence" VALUES('tombstones',3);
INSERT INTO "sqlite_sequence" VALUES('index_queue',9);
COMMIT;
