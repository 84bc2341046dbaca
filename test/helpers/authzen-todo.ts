// The AuthZEN "Todo" interop scenario's data (test/server/authzen-todo.test.ts): the
// policy, the five users as the PEP names them and what the PDP knows about them, and
// the same as directory entities.

export const TODO_POLICY = `
key: global-todo
rules:
  - id: everyone-reads
    subjects: ["*"]
    grant: [can_read_user, can_read_todos]
  - id: editors-create
    subjects: ["role:editor", "role:admin"]
    grant: [can_create_todo]
  - id: owners-edit
    subjects: ["role:editor"]
    when: 'resource.attributes.ownerID == subject.attributes.email'
    grant: [can_update_todo, can_delete_todo]
  - id: evil-genius-edits-all
    subjects: ["role:evil_genius"]
    grant: [can_update_todo]
  - id: admins-delete-all
    subjects: ["role:admin"]
    grant: [can_delete_todo]
`;

/** The five users: the opaque id the PEP sends, and what the PDP knows about them. */
export const USERS = {
  rick: { pid: 'CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs', email: 'rick@the-citadel.com', roles: ['admin', 'evil_genius'] },
  morty: { pid: 'CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs', email: 'morty@the-citadel.com', roles: ['editor'] },
  summer: { pid: 'CiRmZDI2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs', email: 'summer@the-smiths.com', roles: ['editor'] },
  beth: { pid: 'CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs', email: 'beth@the-smiths.com', roles: ['viewer'] },
  jerry: { pid: 'CiRmZDQ2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs', email: 'jerry@the-smiths.com', roles: ['viewer'] },
} as const;

/** The five users as directory entities (`user:<pid>`: roles, and the email ownership is decided by). */
export const DIRECTORY = Object.values(USERS).map((u) => ({ ref: `user:${u.pid}`, roles: [...u.roles], attributes: { email: u.email } }));
