-- A database as the data contract (shared/seed/database-structure.md) describes it, written by hand,
-- without this app: native enum types, serial ids, the agent tables made by a SQL function, and data.
-- adopt_database must take it over. (seed_varchar.sql is the same contract with varchar columns.)

CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TYPE role AS ENUM ('admin', 'agent', 'super_admin');
CREATE TYPE media_type AS ENUM ('none', 'image', 'video', 'audio', 'document', 'sticker');
CREATE TYPE order_status AS ENUM ('pending', 'confirmed', 'processing', 'shipped', 'delivered', 'cancelled', 'refunded');

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name varchar NOT NULL,
    email varchar NOT NULL UNIQUE,
    role role NOT NULL,
    created_at timestamptz DEFAULT CURRENT_TIMESTAMP
);

CREATE SEQUENCE agents_id_seq;
CREATE TABLE agents (
    id bigint PRIMARY KEY DEFAULT nextval('agents_id_seq'),
    agent_prefix varchar NOT NULL UNIQUE,
    user_id uuid REFERENCES users (id),
    created_by uuid NOT NULL REFERENCES users (id),
    created_at timestamptz DEFAULT CURRENT_TIMESTAMP
);
ALTER SEQUENCE agents_id_seq OWNED BY agents.id;

CREATE SEQUENCE whatsapp_configuration_id_seq;
CREATE TABLE whatsapp_configuration (
    id bigint PRIMARY KEY DEFAULT nextval('whatsapp_configuration_id_seq'),
    user_id uuid NOT NULL UNIQUE REFERENCES users (id),
    whatsapp_number varchar NOT NULL,
    webhook_url text NOT NULL,
    api_key text,
    business_account_id varchar,
    phone_number_id varchar,
    is_active boolean DEFAULT true,
    created_at timestamptz DEFAULT CURRENT_TIMESTAMP,
    updated_at timestamptz DEFAULT CURRENT_TIMESTAMP
);
ALTER SEQUENCE whatsapp_configuration_id_seq OWNED BY whatsapp_configuration.id;

-- The seed's dynamic table creation: agt_{agent_id}_customers, _messages, _orders, _orders_items.
CREATE FUNCTION create_agent_tables(agent bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE p text := 'agt_' || agent;
BEGIN
    EXECUTE format('CREATE TABLE %I (
        id serial PRIMARY KEY,
        agent_id bigint NOT NULL DEFAULT %s REFERENCES agents (id),
        name text NOT NULL,
        phone text NOT NULL UNIQUE,
        profile_image_url text,
        created_at timestamp DEFAULT now())', p || '_customers', agent);
    EXECUTE format('CREATE TABLE %I (
        id serial PRIMARY KEY,
        customer_id integer NOT NULL REFERENCES %I (id),
        message text NOT NULL,
        direction varchar NOT NULL CHECK (direction IN (''inbound'', ''outbound'')),
        timestamp timestamp DEFAULT now(),
        is_read boolean DEFAULT false,
        media_type media_type DEFAULT ''none'',
        media_url text,
        caption text)', p || '_messages', p || '_customers');
    EXECUTE format('CREATE TABLE %I (
        id serial PRIMARY KEY,
        customer_id integer NOT NULL REFERENCES %I (id),
        total_amount numeric DEFAULT 0,
        status order_status DEFAULT ''pending'',
        notes text,
        shipping_address text,
        created_at timestamp DEFAULT now(),
        updated_at timestamp DEFAULT now())', p || '_orders', p || '_customers');
    EXECUTE format('CREATE TABLE %I (
        id serial PRIMARY KEY,
        order_id integer NOT NULL REFERENCES %I (id),
        name text NOT NULL,
        quantity integer NOT NULL DEFAULT 1 CHECK (quantity > 0),
        price numeric NOT NULL DEFAULT 0 CHECK (price >= 0),
        total numeric,
        created_at timestamp DEFAULT now())', p || '_orders_items', p || '_orders');
END $$;

INSERT INTO users (id, name, email, role) VALUES
    ('00000000-0000-4000-8000-000000000001', 'Ada Admin', 'Ada@Shop.example', 'super_admin'),
    ('00000000-0000-4000-8000-000000000002', 'Sam Seller', 'sam@shop.example', 'agent'),
    ('00000000-0000-4000-8000-000000000003', 'Kim Keeper', 'kim@shop.example', 'agent');

INSERT INTO agents (id, agent_prefix, user_id, created_by) VALUES
    (3784, 'agt_3784', '00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001'),
    (3785, 'agt_3785', '00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000001');
SELECT setval('agents_id_seq', 3785);
SELECT create_agent_tables(3784);
SELECT create_agent_tables(3785);

INSERT INTO whatsapp_configuration (user_id, whatsapp_number, webhook_url, api_key, business_account_id, phone_number_id)
VALUES ('00000000-0000-4000-8000-000000000002', '+15550100001', 'https://old.example/webhook',
        'EAAG-plain-access-token-0001', '200000000000001', '100000000000001');

INSERT INTO agt_3784_customers (name, phone) VALUES ('Maria Silva', '+5511987654321'), ('John Carter', '+14155550123');
INSERT INTO agt_3784_messages (customer_id, message, direction, timestamp, is_read, media_type, media_url, caption) VALUES
    (1, 'Hi! Do you still have the blue mugs?', 'inbound', '2026-05-01 12:00', false, 'none', NULL, NULL),
    (1, 'Yes, 12 left.', 'outbound', '2026-05-01 12:05', true, 'none', NULL, NULL),
    (1, 'Here is the one I want', 'inbound', '2026-05-01 12:06', false, 'image', 'https://old.example/m/1.jpg', 'this one'),
    (2, 'Open on Sunday?', 'inbound', '2026-04-30 09:00', true, 'none', NULL, NULL);
INSERT INTO agt_3784_orders (customer_id, total_amount, status) VALUES (1, 150.00, 'confirmed') RETURNING id;
INSERT INTO agt_3784_orders_items (order_id, name, quantity, price, total)
VALUES (1, 'Product A', 2, 50.00, 100.00), (1, 'Product B', 1, 50.00, 50.00);
INSERT INTO agt_3785_customers (name, phone) VALUES ('Aisha Bello', '+2348031234567');
