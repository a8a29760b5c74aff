# Bus policy and polkit actions.
dist_dbuspolicy_DATA = policy/org.siov1.conf
dist_polkitaction_DATA = policy/org.siov1.policy
